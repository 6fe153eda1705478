// Runs a fuzz target's LLVMFuzzerTestOneInput on files, without libFuzzer: for every build (ctest runs
// each target over its committed corpus, under the sanitizers of the asan build), and for reproducing
// a crash with any compiler. Arguments: files or folders (every file in them).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg))
        if (entry.is_regular_file()) files.push_back(entry.path());
    } else if (std::filesystem::exists(arg)) {
      files.push_back(arg);
    } else {
      std::cerr << argv[0] << ": no such file or folder: " << arg << '\n';
      return 2;
    }
  }
  if (files.empty()) {
    std::cerr << argv[0] << ": no inputs\n";
    return 2;
  }
  for (const auto& file : files) {
    std::ifstream stream(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << files.size() << " inputs ran without a finding\n";
  return 0;
}

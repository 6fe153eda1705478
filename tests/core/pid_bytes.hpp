// The binary form of a struct whose one field is a pid of another node (see codec/binary.hpp), written
// by hand so that tests can put any address in it, valid or not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace codec_test {

/// The bytes of `struct { coactor::pid p; }` holding the pid 7.2.9 (incarnation, slot, id) at `address`.
inline std::string pid_message(std::string_view address) {
  std::string m = "\x01";                     // field count
  m += std::string("\x07\0\0\0\0\0\0\0", 8);  // node incarnation 7
  m += std::string("\x09\0\0\0\0\0\0\0", 8);  // id 9
  m += '\x02';                                // slot 2
  std::uint64_t n = address.size();           // varint length
  while (n >= 0x80) {
    m += static_cast<char>(n | 0x80);
    n >>= 7;
  }
  m += static_cast<char>(n);
  m += address;
  return m;
}

}  // namespace codec_test

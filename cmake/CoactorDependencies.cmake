# The dependencies, all from Debian 12 packages (see docs/building.md):
#   libasio-dev (standalone Asio 1.22, header-only, no CMake package file of its own)
find_package(Threads REQUIRED)

find_path(COACTOR_ASIO_INCLUDE_DIR asio.hpp REQUIRED)
if(NOT TARGET coactor::asio)
  add_library(coactor::asio INTERFACE IMPORTED)
  set_target_properties(coactor::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${COACTOR_ASIO_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED")
endif()

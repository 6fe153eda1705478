# The dependencies, all from Debian 12 packages (scripts/lib/setup.sh installs them; docs/building.md):
#   libasio-dev         standalone Asio 1.22: header-only, no CMake package file of its own -> coactor::asio
#   nlohmann-json3-dev  nlohmann/json 3.11 -> nlohmann_json::nlohmann_json
#   libboost1.81-dev    Boost 1.81 headers (PFR) -> Boost::headers. Not libboost-dev: that is 1.74, which
#                       has no PFR (and the two conflict).
#
# Included twice over: by the top-level CMakeLists.txt, and, installed next to it, by coactorConfig.cmake,
# so that a project using the installed package finds the same targets. In the second case
# (COACTOR_FIND_DEPENDENCY set) a missing dependency makes find_package(coactor) report coactor as not
# found, with the reason, instead of stopping the consumer's configure.
if(COACTOR_FIND_DEPENDENCY)
  include(CMakeFindDependencyMacro)
  macro(coactor_find_package)
    find_dependency(${ARGN})  # on failure: sets coactor_FOUND false and returns from this file
  endmacro()
else()
  macro(coactor_find_package)
    find_package(${ARGN} REQUIRED)
  endmacro()
endif()

coactor_find_package(Threads)
coactor_find_package(nlohmann_json 3.11)
coactor_find_package(Boost 1.81 CONFIG COMPONENTS headers)

find_path(COACTOR_ASIO_INCLUDE_DIR asio.hpp)
if(NOT COACTOR_ASIO_INCLUDE_DIR)
  set(_coactor_why "standalone Asio (asio.hpp) not found: install libasio-dev, or set COACTOR_ASIO_INCLUDE_DIR")
  if(COACTOR_FIND_DEPENDENCY)
    set(coactor_NOT_FOUND_MESSAGE "${_coactor_why}")
    set(coactor_FOUND FALSE)
    return()
  endif()
  message(FATAL_ERROR "${_coactor_why}")
endif()
if(NOT TARGET coactor::asio)
  add_library(coactor::asio INTERFACE IMPORTED)
  set_target_properties(coactor::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${COACTOR_ASIO_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED")
endif()

# The install test of the conformance suite (ctest: install.conformance, see tests/CMakeLists.txt):
# installs the build tree into a fresh prefix, then builds, through find_package(coactor), the project
# that docs/transports.md ("Writing your own transport") shows a user (a transport of one's own and its
# conformance test), from the blocks of that page that name their file (```cpp counting_transport.hpp,
# ```cmake CMakeLists.txt), word for word, and runs the test. Compiled with the build's compiler and
# flags plus -Wall -Wextra -Wpedantic -Werror.
#   cmake -DBUILD_DIR=<build tree> -DSOURCE_DIR=<project root> -DWORK_DIR=<scratch dir> -DCONFIG=<config>
#         -DGENERATOR=<generator> -DCXX=<compiler> "-DCXX_FLAGS=<flags>" -P CoactorInstallConformanceTest.cmake
cmake_minimum_required(VERSION 3.25)  # policies of script mode: while(TRUE), IN_LIST
include(${CMAKE_CURRENT_LIST_DIR}/CoactorTestScript.cmake)
coactor_require(BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX)

set(prefix ${WORK_DIR}/prefix)
set(consumer_source ${WORK_DIR}/consumer)
set(consumer_build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
coactor_install(${BUILD_DIR} ${prefix} ${CONFIG})
if(NOT EXISTS ${prefix}/include/coactor/transports/conformance.hpp)
  message(FATAL_ERROR "the install put no include/coactor/transports/conformance.hpp into ${prefix}")
endif()

coactor_doc_files(${SOURCE_DIR}/docs/transports.md ${consumer_source})
foreach(expected CMakeLists.txt counting_transport.hpp counting_transport.test.cpp)
  if(NOT expected IN_LIST files)
    message(FATAL_ERROR "docs/transports.md has no block named ${expected} (it has: ${files})")
  endif()
endforeach()
message("-- the user's project, from docs/transports.md: ${files}")

if(NOT CONFIG)
  set(CONFIG Debug)
endif()
coactor_build_consumer(${consumer_source} ${consumer_build} ${prefix} ${CONFIG} counting_transport_test)

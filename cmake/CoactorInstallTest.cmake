# The install test (a ctest test, see tests/CMakeLists.txt): installs the build tree into a fresh prefix
# with `cmake --install`, then builds and runs a user's project against it, as docs/building.md tells
# users to: its CMakeLists.txt is the ```cmake block of docs/building.md, word for word, and its main.cpp
# is tests/install/consumer/main.cpp. The consumer is compiled with the build's compiler and flags
# (sanitizers included) plus -Wall -Wextra -Wpedantic -Werror, once unoptimized and once at -O3, so that
# coactor's headers give a user no warning either way.
#   cmake -DBUILD_DIR=<build tree> -DSOURCE_DIR=<project root> -DWORK_DIR=<scratch dir> -DCONFIG=<config>
#         -DGENERATOR=<generator> -DCXX=<compiler> "-DCXX_FLAGS=<flags>" -P CoactorInstallTest.cmake
include(${CMAKE_CURRENT_LIST_DIR}/CoactorTestScript.cmake)
coactor_require(BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX)

set(prefix ${WORK_DIR}/prefix)
set(consumer_source ${WORK_DIR}/consumer)
file(REMOVE_RECURSE ${WORK_DIR})
coactor_install(${BUILD_DIR} ${prefix} ${CONFIG})

# The consumer's CMakeLists.txt: the one ```cmake block of docs/building.md.
file(READ ${SOURCE_DIR}/docs/building.md doc)
string(REGEX MATCHALL "\n```cmake\n[^`]*```" blocks "${doc}")
list(LENGTH blocks count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "docs/building.md must have exactly one ```cmake block (the consumer project); it has ${count}")
endif()
string(REGEX REPLACE "^\n```cmake\n" "" lists "${blocks}")
string(REGEX REPLACE "```$" "" lists "${lists}")
file(WRITE ${consumer_source}/CMakeLists.txt "${lists}")
file(COPY ${SOURCE_DIR}/tests/install/consumer/main.cpp DESTINATION ${consumer_source})
message("-- the consumer's CMakeLists.txt (from docs/building.md):\n${lists}")

set(configs ${CONFIG} Release)
list(REMOVE_DUPLICATES configs)
foreach(config IN LISTS configs)
  coactor_build_consumer(${consumer_source} ${WORK_DIR}/build-${config} ${prefix} ${config} my_app)
endforeach()

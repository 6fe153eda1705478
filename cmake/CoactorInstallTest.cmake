# The install test (a ctest test, see tests/CMakeLists.txt): installs the build tree into a fresh prefix
# with `cmake --install`, then configures, builds and runs tests/install/consumer, a separate project
# that finds the library with find_package(coactor) and uses coactor::coactor, as a user's project would.
#   cmake -DBUILD_DIR=<build tree> -DSOURCE_DIR=<project root> -DWORK_DIR=<scratch dir> -DCONFIG=<config>
#         -DGENERATOR=<generator> -DCXX=<compiler> "-DCXX_FLAGS=<flags>" -P CoactorInstallTest.cmake
# The consumer is built with the same compiler and flags (sanitizers included) as the tree under test.
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX)
  if(NOT ${var})
    message(FATAL_ERROR "CoactorInstallTest.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run what)
  message("-- ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status STREQUAL "0")
    message(FATAL_ERROR "${what} failed (${status}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer-build)
file(REMOVE_RECURSE ${WORK_DIR})

set(config_arg "")
if(CONFIG)
  set(config_arg --config ${CONFIG})
endif()
run("install into ${prefix}" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_arg})
if(NOT EXISTS ${prefix}/include/coactor/coactor.hpp)
  message(FATAL_ERROR "the install put no include/coactor/coactor.hpp into ${prefix}")
endif()

run("configure the consumer"
  ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${consumer_build} -G ${GENERATOR}
  -DCMAKE_BUILD_TYPE=${CONFIG} -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
# It must have found the installed package, not some other copy.
file(STRINGS ${consumer_build}/CMakeCache.txt found REGEX "^coactor_DIR:")
string(FIND "${found}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "the consumer found coactor elsewhere than in ${prefix}: ${found}")
endif()

run("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build} ${config_arg})
set(program ${consumer_build}/consumer)
if(NOT EXISTS ${program})  # multi-config generators put it in a folder per configuration
  set(program ${consumer_build}/${CONFIG}/consumer)
endif()
run("run the consumer" ${program})
message("${output}")

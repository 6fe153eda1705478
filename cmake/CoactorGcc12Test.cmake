# The g++ coroutine test (a ctest test, see tests/CMakeLists.txt): tells, for the g++ at hand, whether the
# natural request `co_await self.request<R>(to, put{k, v}, 1s)` is safe, or guarded. Installs the build
# tree into a fresh prefix, then builds tests/gcc12 against it with g++ and AddressSanitizer:
#   - the safe form (coactor::make<put>(k, v)) must compile without a warning and run clean;
#   - the natural form runs too. If it runs clean, it is safe with this g++ (say so). If it does not, the
#     test passes only if it was guarded twice: the package's configure step warned (coactorConfig.cmake),
#     and the compiler warned at the call (-Wdeprecated-declarations, naming coactor::make).
#   cmake -DBUILD_DIR=<build tree> -DSOURCE_DIR=<project root> -DWORK_DIR=<scratch dir> -DGXX=<g++>
#         -DGENERATOR=<generator> -P CoactorGcc12Test.cmake
include(${CMAKE_CURRENT_LIST_DIR}/CoactorTestScript.cmake)
coactor_require(BUILD_DIR SOURCE_DIR WORK_DIR GXX GENERATOR)

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
coactor_install(${BUILD_DIR} ${prefix})

execute_process(COMMAND ${GXX} -dumpfullversion OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE)
set(expect_guard FALSE)
if(version VERSION_LESS 13)
  set(expect_guard TRUE)
endif()

coactor_run("configure tests/gcc12 with g++ ${version} and AddressSanitizer"
  ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/gcc12 -B ${build} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_CXX_COMPILER=${GXX} "-DCMAKE_CXX_FLAGS=-fsanitize=address -fno-omit-frame-pointer -Wall -Wextra"
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
string(REGEX MATCHALL "coactor: g\\+\\+ [0-9.]+ miscompiles" configure_warnings "${output}")
list(LENGTH configure_warnings configure_warned)
if(expect_guard AND NOT configure_warned EQUAL 1)
  message(FATAL_ERROR "configuring with g++ ${version} should warn once about its coroutine bug; "
                      "it warned ${configure_warned} times:\n${output}")
endif()

coactor_run("build the safe form (coactor::make)" ${CMAKE_COMMAND} --build ${build} --target safe)
if(output MATCHES "warning")
  message(FATAL_ERROR "the safe form compiled with a warning:\n${output}")
endif()
coactor_run("build the natural form (put{k, v} inside co_await)" ${CMAKE_COMMAND} --build ${build} --target natural)
set(compile_warned FALSE)
if(output MATCHES "Wdeprecated-declarations" AND output MATCHES "coactor::make<T>")
  set(compile_warned TRUE)
endif()
if(expect_guard AND NOT compile_warned)
  message(FATAL_ERROR "g++ ${version} compiled the natural form without coactor's warning:\n${output}")
endif()

set(ENV{ASAN_OPTIONS} "halt_on_error=1:detect_leaks=1")
coactor_run("run the safe form under AddressSanitizer" ${build}/safe)
message("${output}")

execute_process(COMMAND ${build}/natural RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(status STREQUAL "0")
  message("-- g++ ${version}: the natural form runs clean under AddressSanitizer: it is safe with this compiler")
elseif(configure_warned EQUAL 1 AND compile_warned)
  string(REGEX MATCH "ERROR: AddressSanitizer: [^\n]*" asan "${out}")
  message("-- g++ ${version}: the natural form fails (${asan}); it is guarded: the configure step and the "
          "compiler both warned, naming the safe form")
else()
  message(FATAL_ERROR "g++ ${version}: the natural form fails and nothing warned of it:\n${out}")
endif()

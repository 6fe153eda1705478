# A program that must not compile (a ctest test, see tests/CMakeLists.txt): builds TARGET in BUILD_DIR,
# which must fail, with a compiler message matching each regular expression of EXPECT (a ;-list).
#   cmake -DBUILD_DIR=<build tree> -DTARGET=<target> "-DEXPECT=<regex>;<regex>" -P CoactorCompileFail.cmake
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(status STREQUAL "0")
  message(FATAL_ERROR "${TARGET} compiled; it must not")
endif()
foreach(expected IN LISTS EXPECT)
  if(NOT out MATCHES "${expected}")
    message(FATAL_ERROR "${TARGET} failed to compile, but without saying '${expected}':\n${out}")
  endif()
endforeach()
message("${TARGET} failed to compile, as it must, saying what it should")

# Wire names must not depend on the compiler: a node built with g++ and one built with clang have to agree
# on every type name and field name (they are part of the protocol, see include/coactor/type_name.hpp).
#
#   coactor_cross_compiler_test(NAME SOURCE)
#     Builds SOURCE (a header-only program that prints names) with the project's compiler as target NAME,
#     and adds the test NAME, which builds the same SOURCE with the other compiler (clang++ when the
#     project uses g++, g++ when it uses clang++), runs both, and fails if their outputs differ. Without
#     the other compiler the test is reported as skipped, and configuring says so.
#
# This file is also the test itself, run as `cmake -P` with OTHER_CXX, SOURCE, INCLUDES (|-separated),
# REFERENCE (the program built by the project's compiler) and WORK_DIR.

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_policy(VERSION 3.25)
  string(REPLACE "|" ";" includes "${INCLUDES}")
  set(flags -std=c++20)
  foreach(dir IN LISTS includes)
    list(APPEND flags -isystem "${dir}")
  endforeach()
  file(MAKE_DIRECTORY "${WORK_DIR}")
  set(other "${WORK_DIR}/print_names_other")
  execute_process(COMMAND "${OTHER_CXX}" ${flags} "${SOURCE}" -o "${other}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${OTHER_CXX} could not build ${SOURCE}:\n${out}")
  endif()
  execute_process(COMMAND "${REFERENCE}" RESULT_VARIABLE rc_a OUTPUT_VARIABLE a ERROR_VARIABLE err_a)
  execute_process(COMMAND "${other}" RESULT_VARIABLE rc_b OUTPUT_VARIABLE b ERROR_VARIABLE err_b)
  if(NOT rc_a EQUAL 0 OR NOT rc_b EQUAL 0)
    message(FATAL_ERROR "a name printer failed: ${REFERENCE}: ${rc_a} ${err_a}; ${other}: ${rc_b} ${err_b}")
  endif()
  if(a STREQUAL "")
    message(FATAL_ERROR "${REFERENCE} printed nothing")
  endif()
  if(NOT a STREQUAL b)
    # Show the lines that differ.
    string(REPLACE "\n" ";" lines_a "${a}")
    string(REPLACE "\n" ";" lines_b "${b}")
    list(LENGTH lines_a n_a)
    list(LENGTH lines_b n_b)
    set(report "")
    math(EXPR last "${n_a} - 1")
    if(n_b GREATER n_a)
      math(EXPR last "${n_b} - 1")
    endif()
    foreach(i RANGE ${last})
      set(line_a "")
      set(line_b "")
      if(i LESS n_a)
        list(GET lines_a ${i} line_a)
      endif()
      if(i LESS n_b)
        list(GET lines_b ${i} line_b)
      endif()
      if(NOT line_a STREQUAL line_b)
        string(APPEND report "  project compiler: ${line_a}\n  ${OTHER_CXX}: ${line_b}\n")
      endif()
    endforeach()
    message(FATAL_ERROR "the two compilers disagree on wire names:\n${report}")
  endif()
  string(REGEX MATCHALL "\n" newlines "${a}")
  list(LENGTH newlines count)
  message(STATUS "${count} lines of names agree between the project's compiler and ${OTHER_CXX}")
  return()
endif()

function(coactor_cross_compiler_test name source)
  add_executable(${name} ${source})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${name} PRIVATE Boost::headers)
  coactor_warnings(${name})

  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    find_program(COACTOR_OTHER_CXX NAMES clang++ clang++-14 clang++-15 clang++-16
                 DOC "the compiler whose wire names are compared with the project's compiler's")
    set(wanted clang++)
  else()
    find_program(COACTOR_OTHER_CXX NAMES g++ g++-12 g++-13
                 DOC "the compiler whose wire names are compared with the project's compiler's")
    set(wanted g++)
  endif()
  if(NOT COACTOR_OTHER_CXX)
    message(STATUS "${wanted} not found: the test ${name} (wire names agree across compilers) is skipped")
    add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -E echo "skipped: ${wanted} not found when configuring")
    set_tests_properties(${name} PROPERTIES SKIP_REGULAR_EXPRESSION "^skipped")
    return()
  endif()

  # Boost's headers (and any other) without the compiler's own folders: -isystem /usr/include breaks
  # libstdc++'s #include_next.
  get_target_property(boost_includes Boost::headers INTERFACE_INCLUDE_DIRECTORIES)
  set(includes ${PROJECT_SOURCE_DIR}/include)
  foreach(dir IN LISTS boost_includes)
    if(dir AND NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
      list(APPEND includes ${dir})
    endif()
  endforeach()
  string(REPLACE ";" "|" includes "${includes}")
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DOTHER_CXX=${COACTOR_OTHER_CXX} -DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/${source}
            -DINCLUDES=${includes} -DREFERENCE=$<TARGET_FILE:${name}> -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/${name}.work
            -P ${CMAKE_CURRENT_FUNCTION_LIST_FILE})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300)
endfunction()

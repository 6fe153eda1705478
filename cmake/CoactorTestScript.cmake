# What the test scripts run with `cmake -P` share (CoactorInstallTest.cmake, CoactorGcc12Test.cmake):
#   coactor_require(<variable>...)        stops the test unless each variable was given (-D<variable>=...)
#   coactor_run(<what> <command>...)      runs a command, stops the test with its output if it fails;
#                                         its output is left in `output`
#   coactor_install(<build dir> <prefix> [<config>])   `cmake --install` of a build tree into a fresh prefix
#   coactor_build_consumer(<source> <build> <prefix> <config> <program>)   configures and builds, against
#                                         the package installed in <prefix> only, a user's project with the
#                                         test's compiler and flags (CXX, CXX_FLAGS, GENERATOR) plus
#                                         -Wall -Wextra -Wpedantic -Werror, then runs its <program>
#   coactor_doc_files(<markdown file> <dir>)   writes each fenced block whose info string names a file
#                                         ("```cpp my_transport.hpp") to <dir>/<that name>; the names
#                                         written are left in `files`
function(coactor_require)
  foreach(var IN LISTS ARGN)
    if(NOT ${var})
      get_filename_component(script ${CMAKE_SCRIPT_MODE_FILE} NAME)
      message(FATAL_ERROR "${script}: -D${var}=... is required")
    endif()
  endforeach()
endfunction()

function(coactor_run what)
  message("-- ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status STREQUAL "0")
    message(FATAL_ERROR "${what} failed (${status}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

function(coactor_install build_dir prefix)
  set(config_arg "")
  if(ARGV2)
    set(config_arg --config ${ARGV2})
  endif()
  file(REMOVE_RECURSE ${prefix})
  coactor_run("install into ${prefix}" ${CMAKE_COMMAND} --install ${build_dir} --prefix ${prefix} ${config_arg})
  if(NOT EXISTS ${prefix}/include/coactor/coactor.hpp)
    message(FATAL_ERROR "the install put no include/coactor/coactor.hpp into ${prefix}")
  endif()
endfunction()

function(coactor_build_consumer source build prefix config program)
  set(strict "-Wall -Wextra -Wpedantic -Werror")
  coactor_run("configure the user's project (${config})"
    ${CMAKE_COMMAND} -S ${source} -B ${build} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=${config} -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS} ${strict}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  message("${output}")
  # It must have found the installed package, not some other copy.
  file(STRINGS ${build}/CMakeCache.txt found REGEX "^coactor_DIR:")
  string(FIND "${found}" "${prefix}/" at)
  if(NOT at GREATER -1)
    message(FATAL_ERROR "the user's project found coactor elsewhere than in ${prefix}: ${found}")
  endif()
  coactor_run("build the user's project (${config}, ${strict})" ${CMAKE_COMMAND} --build ${build} --config ${config})
  set(path ${build}/${program})
  if(NOT EXISTS ${path})  # multi-config generators put it in a folder per configuration
    set(path ${build}/${config}/${program})
  endif()
  coactor_run("run ${program} (${config})" ${path})
  message("${output}")
endfunction()

# Plain string search, no list operations on the text: C++ is full of ';' and '[', which CMake lists
# mangle (as in CoactorDocSnippets.cmake).
function(coactor_doc_files doc dir)
  file(READ ${doc} text)
  set(rest "\n${text}")
  set(names "")
  while(TRUE)
    string(FIND "${rest}" "\n```" open)
    if(open EQUAL -1)
      break()
    endif()
    math(EXPR after_fence "${open} + 4")
    string(SUBSTRING "${rest}" ${after_fence} -1 rest)
    string(FIND "${rest}" "\n" eol)
    if(eol EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${eol} info)
    math(EXPR body_at "${eol} + 1")
    string(SUBSTRING "${rest}" ${body_at} -1 rest)
    string(FIND "${rest}" "\n```" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "${doc}: a ``` block is not closed")
    endif()
    math(EXPR close_nl "${close} + 1")
    string(SUBSTRING "${rest}" 0 ${close_nl} code)
    math(EXPR past_fence "${close} + 4")
    string(SUBSTRING "${rest}" ${past_fence} -1 rest)
    if(info MATCHES "^[a-z+]+[ \t]+([A-Za-z0-9_.-]+)$")
      file(WRITE ${dir}/${CMAKE_MATCH_1} "${code}")
      list(APPEND names ${CMAKE_MATCH_1})
    endif()
  endwhile()
  set(files ${names} PARENT_SCOPE)
endfunction()

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

include(${CMAKE_CURRENT_LIST_DIR}/CoactorMarkdown.cmake)

function(coactor_doc_files doc dir)
  coactor_markdown_blocks(${doc} ${dir}/.blocks)
  set(names "")
  if(block_count EQUAL 0)
    message(FATAL_ERROR "${doc}: no ``` block")
  endif()
  foreach(k RANGE 1 ${block_count})
    if(block_${k}_info MATCHES "^[a-z+]+[ \t]+([A-Za-z0-9_.-]+)$")
      configure_file(${dir}/.blocks/block_${k}.txt ${dir}/${CMAKE_MATCH_1} COPYONLY)
      list(APPEND names ${CMAKE_MATCH_1})
    endif()
  endforeach()
  file(REMOVE_RECURSE ${dir}/.blocks)
  set(files ${names} PARENT_SCOPE)
endfunction()

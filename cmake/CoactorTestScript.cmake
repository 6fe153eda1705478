# What the test scripts run with `cmake -P` share (CoactorInstallTest.cmake, CoactorGcc12Test.cmake):
#   coactor_require(<variable>...)        stops the test unless each variable was given (-D<variable>=...)
#   coactor_run(<what> <command>...)      runs a command, stops the test with its output if it fails;
#                                         its output is left in `output`
#   coactor_install(<build dir> <prefix> [<config>])   `cmake --install` of a build tree into a fresh prefix
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

# Warnings for the project's own targets (not imposed on users of the installed package).
function(coactor_warnings target)
  if(PROJECT_IS_TOP_LEVEL)
    # -Wshadow=local is g++'s; clang does not know it (the fuzz build uses clang).
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>)
  endif()
endfunction()

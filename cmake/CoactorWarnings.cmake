# Warnings for the project's own targets (not imposed on users of the installed package).
function(coactor_warnings target)
  if(PROJECT_IS_TOP_LEVEL)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wno-missing-field-initializers)
  endif()
endfunction()

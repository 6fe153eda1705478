# Every program in the documentation compiles and runs: each ```cpp fenced block of README.md and
# docs/*.md that contains `int main` is extracted at configure time into <build>/doc_snippets/, built
# like an example (so a block that no longer compiles fails the build), and run by ctest as
# doc.<file>.<n> (which fails unless it exits with 0). Blocks without `int main` are fragments and are
# left alone. A #line directive makes compiler messages point into the Markdown file. Editing a Markdown
# file re-runs the configure step, so the extracted copies never go stale.
#
#   coactor_doc_snippet_tests(<library>...)   the libraries every program is linked with
include(${CMAKE_CURRENT_LIST_DIR}/CoactorMarkdown.cmake)

function(coactor_doc_snippet_tests)
  set(libraries ${ARGN})
  file(GLOB docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
  list(PREPEND docs ${PROJECT_SOURCE_DIR}/README.md)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/doc_snippets)
  set(total 0)
  foreach(doc IN LISTS docs)
    if(NOT EXISTS ${doc})
      continue()
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${doc})
    file(RELATIVE_PATH doc_name ${PROJECT_SOURCE_DIR} ${doc})
    get_filename_component(stem ${doc} NAME_WE)
    coactor_markdown_blocks(${doc} ${out_dir}/${stem}_blocks)
    set(n 0)
    set(blocks "")
    if(block_count GREATER 0)
      foreach(k RANGE 1 ${block_count})
        list(APPEND blocks ${k})
      endforeach()
    endif()
    foreach(k IN LISTS blocks)
      # A ```cpp block, possibly with more of an info string ("```cpp title"), not another language
      # such as ```cppfront; with `int main` it is a program, otherwise a fragment left alone.
      if(NOT block_${k}_info MATCHES "^cpp([ \t].*)?$")
        continue()
      endif()
      file(READ ${out_dir}/${stem}_blocks/block_${k}.txt code)
      string(FIND "${code}" "int main" has_main)
      if(has_main EQUAL -1)
        continue()
      endif()
      math(EXPR n "${n} + 1")
      set(target doc_${stem}_${n})
      set(source ${out_dir}/${stem}_${n}.cpp)
      # Written only when it changed, so that configuring again does not rebuild every program.
      file(WRITE ${source}.new "#line ${block_${k}_line} \"${doc}\"\n${code}")
      configure_file(${source}.new ${source} COPYONLY)
      add_executable(${target} ${source})
      target_link_libraries(${target} PRIVATE ${libraries})
      coactor_warnings(${target})
      add_test(NAME doc.${doc_name}.${n} COMMAND ${target})
      set_tests_properties(doc.${doc_name}.${n} PROPERTIES TIMEOUT 120)
    endforeach()
    math(EXPR total "${total} + ${n}")
  endforeach()
  if(total EQUAL 0)
    message(WARNING "no program (```cpp block with int main) found in README.md or docs/*.md")
  endif()
endfunction()

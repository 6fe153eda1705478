# Reading the fenced code blocks of a Markdown file, for the tests that build what the documentation
# shows (CoactorDocSnippets.cmake at configure time, CoactorTestScript.cmake's coactor_doc_files in
# `cmake -P` scripts).
#
#   coactor_markdown_blocks(<markdown file> <dir>)
#       writes the body of each ``` block to <dir>/block_<k>.txt (k = 1, 2, ...) and leaves in the
#       caller's scope `block_count`, and for each block `block_<k>_info` (what follows the opening
#       ```, such as "cpp" or "cpp my_transport.hpp") and `block_<k>_line` (the line of the file the body
#       starts on). A block that is not closed stops with an error.
#
# Plain string search, no list operations on the text: C++ is full of ';' and '[', which CMake lists
# mangle.
function(coactor_markdown_blocks doc dir)
  file(READ ${doc} text)
  set(text "\n${text}")
  set(rest "${text}")
  set(consumed 0)  # characters of `text` before `rest`
  set(k 0)
  file(MAKE_DIRECTORY ${dir})
  while(TRUE)
    string(FIND "${rest}" "\n```" open)
    if(open EQUAL -1)
      break()
    endif()
    math(EXPR after_fence "${open} + 4")
    string(SUBSTRING "${rest}" ${after_fence} -1 rest)
    math(EXPR consumed "${consumed} + ${after_fence}")
    string(FIND "${rest}" "\n" eol)
    if(eol EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${eol} info)
    math(EXPR body_at "${eol} + 1")
    string(SUBSTRING "${rest}" ${body_at} -1 rest)
    math(EXPR consumed "${consumed} + ${body_at}")
    string(FIND "${rest}" "\n```" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "${doc}: a ``` block is not closed")
    endif()
    math(EXPR close_nl "${close} + 1")
    string(SUBSTRING "${rest}" 0 ${close_nl} code)
    math(EXPR k "${k} + 1")
    # The body's first line: count the newlines before it (the added leading one makes it 1-based).
    string(SUBSTRING "${text}" 0 ${consumed} before)
    string(REGEX REPLACE "[^\n]" "" newlines "${before}")
    string(LENGTH "${newlines}" line)
    file(WRITE ${dir}/block_${k}.txt "${code}")
    set(block_${k}_info "${info}" PARENT_SCOPE)
    set(block_${k}_line ${line} PARENT_SCOPE)
    math(EXPR past_fence "${close} + 4")  # past the closing fence
    string(SUBSTRING "${rest}" ${past_fence} -1 rest)
    math(EXPR consumed "${consumed} + ${past_fence}")
  endwhile()
  set(block_count ${k} PARENT_SCOPE)
endfunction()

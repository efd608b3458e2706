# The format test: every C++ source follows .clang-format (docs/development.md#style).
# Run: cmake -DROOT=<source dir> -DCLANG_FORMAT=<clang-format> -P check_format.cmake
set(sources "")
foreach(folder engine app render tests)
  file(GLOB_RECURSE found "${ROOT}/${folder}/*.h" "${ROOT}/${folder}/*.cpp")
  list(APPEND sources ${found})
endforeach()
list(FILTER sources EXCLUDE REGEX "/tests/data/")
execute_process(COMMAND "${CLANG_FORMAT}" --dry-run -Werror ${sources}
                WORKING_DIRECTORY "${ROOT}" RESULT_VARIABLE status ERROR_VARIABLE report)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "sources not formatted (run clang-format -i on them):\n${report}")
endif()
list(LENGTH sources count)
message(STATUS "${count} sources follow .clang-format")

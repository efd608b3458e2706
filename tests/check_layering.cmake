# The layering test: each part includes and calls only what its layer may know
# (docs/development.md#layering):
#   engine/        never OpenGL, GLFW, ImGui, render/ or app/
#   engine/ outside engine/torch/   never LibTorch (torch/, ATen/, c10/, caffe2/)
#   engine/ outside engine/io/image_io.cpp   never ITK or GDCM
#   render/        never LibTorch, ImGui, GLFW, ITK, engine/ or app/
#   app/           never LibTorch or OpenGL headers, and no gl* call (render/ draws)
#   app/cli/       never ImGui or GLFW (the command line runs without a window)
#   app/gui/       no \0-separated combo item lists
# Run: cmake -DROOT=<source dir> -P check_layering.cmake
set(failures "")

# Files of `folder` whose #include lines match `forbidden`, except paths matching `allowed`.
function(check_includes folder forbidden allowed)
  file(GLOB_RECURSE files "${ROOT}/${folder}/*.h" "${ROOT}/${folder}/*.cpp")
  foreach(file IN LISTS files)
    if(NOT allowed STREQUAL "" AND file MATCHES "${allowed}")
      continue()
    endif()
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS includes)
      if(line MATCHES "${forbidden}")
        set(failures "${failures}\n  ${file}: ${line}" PARENT_SCOPE)
      endif()
    endforeach()
  endforeach()
endfunction()

# Files of `folder` with a line (not a // comment) matching `forbidden`.
function(check_lines folder forbidden what)
  file(GLOB_RECURSE files "${ROOT}/${folder}/*.h" "${ROOT}/${folder}/*.cpp")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" lines REGEX "${forbidden}")
    foreach(line IN LISTS lines)
      if(NOT line MATCHES "^[ \t]*//")
        set(failures "${failures}\n  ${file}: ${what}: ${line}" PARENT_SCOPE)
      endif()
    endforeach()
  endforeach()
endfunction()

set(torch "[<\"](torch/|ATen/|c10/|caffe2/)")
check_includes(engine "[<\"](GL/|GLFW/|epoxy/|imgui|backends/|render/|app/)" "")
check_includes(engine "${torch}" "/engine/torch/")
check_includes(engine "[<\"](itk|gdcm)" "/engine/io/image_io\\.cpp$")
check_includes(render "[<\"](torch/|ATen/|c10/|caffe2/|imgui|backends/|GLFW/|itk|gdcm|engine/|app/)" "")
check_includes(app "${torch}|[<\"](GL/|epoxy/)|render/gl\\.h" "")
check_lines(app "(^|[^A-Za-z0-9_:])gl[A-Z][A-Za-z0-9]*[ \t]*\\(" "OpenGL call outside render/")
check_includes(app/cli "[<\"](imgui|backends/|GLFW/)" "")
# ImGui's "a\0b\0" item lists break when an item starts with a digit ("\03D" is the escape
# \03 then "D"); every list goes through comboList (app/gui/panels/widgets.h).
check_lines(app/gui "\"[^\"]*\\\\0[^\"]*\"" "a \\0-separated item list")
if(failures)
  message(FATAL_ERROR "layering violated:${failures}")
endif()
message(STATUS "layering respected")

# The layering test: each library includes only what its layer may know (DESIGN.md).
#   engine: never OpenGL, GLFW, ImGui, render/ or app/
#   render: never LibTorch, ImGui, GLFW, ITK, engine/ or app/
# Run: cmake -DROOT=<source dir> -P check_layering.cmake
set(failures "")
function(check_folder folder forbidden)
  file(GLOB_RECURSE files "${ROOT}/${folder}/*.h" "${ROOT}/${folder}/*.cpp")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS includes)
      if(line MATCHES "${forbidden}")
        set(failures "${failures}\n  ${file}: ${line}" PARENT_SCOPE)
      endif()
    endforeach()
  endforeach()
endfunction()
check_folder(engine "[<\"](GL/|GLFW/|epoxy/|imgui|backends/|render/|app/)")
check_folder(render "[<\"](torch/|ATen/|c10/|imgui|backends/|GLFW/|itk|engine/|app/)")
if(failures)
  message(FATAL_ERROR "layering violated:${failures}")
endif()
message(STATUS "layering respected: engine and render include only their own layers")

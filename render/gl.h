#pragma once
// The only OpenGL include in SegXAI: render/ is the one layer that calls OpenGL.
#include <epoxy/gl.h>

#pragma once
#include "render/transfer_function.h"

namespace segxai::app {

// An editor for the 3D view's transfer function: the opacity curve over the display range
// with its control points drawn in their colours. Drag a point to move it, double-click empty
// space to add one, right-click a point to remove it or pick its colour. Returns true when
// the function changed.
bool drawTransferEditor(render::TransferFunction& function);

} // namespace segxai::app

// Internal: the resize plan shared by the u8-resize and u8-preprocess drivers.
#ifndef VISIONC_KERNELS_RESIZE_PLAN_H
#define VISIONC_KERNELS_RESIZE_PLAN_H

#include "visionc_kernels.h"

#include <stdint.h>

struct vc_resize_plan {
    int src_h, src_w, roi_h, roi_w;
    vc_interp interp;
    // Per ROI column: source columns of the two taps (x1 = x0 for nearest and at the right
    // border) and the 11-bit weights (pairs; bilinear only).
    int32_t *x0, *x1;
    int16_t *xalpha;
    // Per ROI row: source rows of the two taps, already clamped to the image, and the weights,
    // which (as in OpenCV) are not reset at the border.
    int32_t *y0, *y1;
    int16_t *ybeta;
};

#endif

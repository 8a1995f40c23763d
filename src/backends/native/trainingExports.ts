/** What training.wasm and training-shared.wasm export (native/csrc/), as nativeKernels.ts calls it. */

/** The exports of csrc/; every pointer is a byte offset into tfjs' heap. */
export interface TrainingExports {
  channel_sums(x: number, npix: number, c: number, shift: number, scratch: number, totals: number): void;
  channel_grad_sums(
    dy: number,
    x: number,
    npix: number,
    c: number,
    centre: number,
    scratch: number,
    totals: number,
    mask: number,
  ): void;
  channel_affine(x: number, y: number, npix: number, c: number, coef: number, relu: number): void;
  channel_affine2(dy: number, x: number, out: number, npix: number, c: number, coef: number, mask: number): void;
  max_pool_2x2(x: number, y: number, n: number, h: number, w: number, c: number): void;
  max_pool_2x2_grad(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number): void;
  relu_grad(dy: number, x: number, out: number, count: number): void;
  rmsprop_update(
    value: number,
    ms: number,
    mom: number,
    g: number,
    value2: number,
    ms2: number,
    mom2: number,
    n: number,
    decay: number,
    rest: number,
    momentum: number,
    lr: number,
    eps: number,
  ): void;
  conv2d_forward(
    x: number,
    w: number,
    bias: number,
    y: number,
    n0: number,
    n1: number,
    h: number,
    wd: number,
    ci: number,
    co: number,
    kh: number,
    kw: number,
    relu: number,
  ): void;
  conv2d_input_grad(
    dy: number,
    wt: number,
    dx: number,
    n0: number,
    n1: number,
    h: number,
    wd: number,
    ci: number,
    co: number,
    kh: number,
    kw: number,
  ): void;
  conv2d_filter_grad(
    x: number,
    dy: number,
    dw: number,
    acc: number,
    n0: number,
    n1: number,
    h: number,
    w: number,
    ci: number,
    co: number,
    kh: number,
    kw: number,
  ): void;
  channel_bias(x: number, y: number, npix: number, c: number, bias: number, relu: number): void;
  relu(x: number, y: number, count: number): void;
  relu_grad_sums(dy: number, y: number, out: number, npix: number, c: number, scratch: number, totals: number): void;
}

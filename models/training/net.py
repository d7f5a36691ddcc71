"""DentalNet: a compact anchor-free single-stage detector (our own design).

Backbone: plain strided conv stages with light CSP-style residual blocks
(Conv-BN-SiLU), strides 2..32.  Neck: top-down FPN + one bottom-up pass
(PAN-lite) on P3/P4/P5 (strides 8/16/32).  Head: one shared 3x3 conv stem
per level followed by 1x1 class and box predictors.  Boxes are regressed as
(left, top, right, bottom) distances = softplus(raw) * stride from the anchor
point (cell centre).  Class scores are independent sigmoids (no objectness).

``DentalNet.forward`` returns raw per-level tensors for training;
``ExportWrapper`` wraps the network with the full decode (grid offsets,
strides, sigmoid) and produces the YOLO layout ``[1, 4 + nc, N]`` with rows
cx, cy, w, h (letterboxed input pixels) followed by class scores.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)


class ConvBN(nn.Module):
    def __init__(self, c_in, c_out, k=3, s=1, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.SiLU(inplace=True) if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Res(nn.Module):
    """Bottleneck-free residual: 3x3 -> 3x3 with identity skip."""

    def __init__(self, c):
        super().__init__()
        self.a = ConvBN(c, c, 3)
        self.b = ConvBN(c, c, 3)

    def forward(self, x):
        return x + self.b(self.a(x))


class CSP(nn.Module):
    """CSP block: split into two halves, run n residual units on one half,
    concatenate and fuse with a 1x1 conv."""

    def __init__(self, c_in, c_out, n=1):
        super().__init__()
        h = c_out // 2
        self.cv1 = ConvBN(c_in, h, 1)
        self.cv2 = ConvBN(c_in, h, 1)
        self.m = nn.Sequential(*[Res(h) for _ in range(n)])
        self.cv3 = ConvBN(2 * h, c_out, 1)

    def forward(self, x):
        return self.cv3(torch.cat([self.m(self.cv1(x)), self.cv2(x)], 1))


class DentalNet(nn.Module):
    def __init__(self, nc: int, in_ch: int = 1, width=(16, 32, 64, 96, 128), neck=64, depth=(1, 2, 2, 1)):
        super().__init__()
        w0, w1, w2, w3, w4 = width
        self.nc = nc
        self.strides = STRIDES
        self.stem = ConvBN(in_ch, w0, 3, 2)                                     # /2
        self.s2 = nn.Sequential(ConvBN(w0, w1, 3, 2), CSP(w1, w1, depth[0]))    # /4
        self.s3 = nn.Sequential(ConvBN(w1, w2, 3, 2), CSP(w2, w2, depth[1]))    # /8
        self.s4 = nn.Sequential(ConvBN(w2, w3, 3, 2), CSP(w3, w3, depth[2]))    # /16
        self.s5 = nn.Sequential(ConvBN(w3, w4, 3, 2), CSP(w4, w4, depth[3]))    # /32
        # FPN (top-down)
        self.l5 = ConvBN(w4, neck, 1)
        self.l4 = ConvBN(w3, neck, 1)
        self.l3 = ConvBN(w2, neck, 1)
        self.td4 = CSP(2 * neck, neck, 1)
        self.td3 = CSP(2 * neck, neck, 1)
        # PAN (bottom-up)
        self.dn3 = ConvBN(neck, neck, 3, 2)
        self.bu4 = CSP(2 * neck, neck, 1)
        self.dn4 = ConvBN(neck, neck, 3, 2)
        self.bu5 = CSP(2 * neck, neck, 1)
        # head: per-level stems (BN statistics differ per level), shared predictors
        self.hstem = nn.ModuleList([nn.Sequential(ConvBN(neck, neck, 3), ConvBN(neck, neck, 3)) for _ in STRIDES])
        self.cls = nn.Conv2d(neck, nc, 1)
        self.reg = nn.Conv2d(neck, 4, 1)
        self.scale = nn.Parameter(torch.ones(len(STRIDES)))
        self._init()

    def _init(self):
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eps = 1e-3
                m.momentum = 0.03
        nn.init.normal_(self.cls.weight, std=0.01)
        nn.init.constant_(self.cls.bias, -4.6)  # prior p ~ 0.01
        nn.init.normal_(self.reg.weight, std=0.01)
        nn.init.constant_(self.reg.bias, 1.0)

    def forward(self, x):
        """Returns list over levels of (cls_logits [B,nc,H,W], ltrb [B,4,H,W] in pixels)."""
        x = self.stem(x)
        x = self.s2(x)
        c3 = self.s3(x)
        c4 = self.s4(c3)
        c5 = self.s5(c4)
        p5 = self.l5(c5)
        p4 = self.td4(torch.cat([self.l4(c4), F.interpolate(p5, scale_factor=2.0, mode="nearest")], 1))
        p3 = self.td3(torch.cat([self.l3(c3), F.interpolate(p4, scale_factor=2.0, mode="nearest")], 1))
        n4 = self.bu4(torch.cat([self.dn3(p3), p4], 1))
        n5 = self.bu5(torch.cat([self.dn4(n4), p5], 1))
        outs = []
        for i, (f, s) in enumerate(zip((p3, n4, n5), STRIDES)):
            h = self.hstem[i](f)
            ltrb = F.softplus(self.reg(h) * self.scale[i]) * s
            outs.append((self.cls(h), ltrb))
        return outs


def make_anchors(h: int, w: int, stride: int, device=None):
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * stride
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)  # [HW, 2]


def flatten(outs):
    """Level outputs -> cls [B,N,nc], ltrb [B,N,4], anchors [N,2], strides [N]."""
    cls_l, box_l, anc_l, str_l = [], [], [], []
    for (c, b), s in zip(outs, STRIDES):
        B, nc, H, W = c.shape
        cls_l.append(c.flatten(2).transpose(1, 2))
        box_l.append(b.flatten(2).transpose(1, 2))
        anc_l.append(make_anchors(H, W, s, c.device))
        str_l.append(torch.full((H * W,), float(s), device=c.device))
    return torch.cat(cls_l, 1), torch.cat(box_l, 1), torch.cat(anc_l, 0), torch.cat(str_l, 0)


class ExportWrapper(nn.Module):
    """Network + decode -> [1, 4+nc, N] (cx, cy, w, h, sigmoid scores)."""

    def __init__(self, net: DentalNet, height: int, width: int):
        super().__init__()
        self.net = net
        anchors = []
        for s in STRIDES:
            anchors.append(make_anchors(height // s, width // s, s))
        self.register_buffer("anchors", torch.cat(anchors, 0).t().contiguous())  # [2, N]

    def forward(self, x):
        outs = self.net(x)
        cls = torch.cat([c.flatten(2) for c, _ in outs], 2)   # [1, nc, N]
        ltrb = torch.cat([b.flatten(2) for _, b in outs], 2)  # [1, 4, N]
        lt, rb = ltrb[:, :2], ltrb[:, 2:]
        a = self.anchors.unsqueeze(0)
        x1y1 = a - lt
        x2y2 = a + rb
        cxcy = (x1y1 + x2y2) * 0.5
        wh = x2y2 - x1y1
        return torch.cat([cxcy, wh, cls.sigmoid()], 1)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def count_macs(net: nn.Module, h: int, w: int, in_ch: int = 1) -> int:
    """Multiply-accumulates of conv layers for one [1,in_ch,h,w] forward."""
    macs = [0]

    def hook(mod, inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1]
        macs[0] += out.numel() * (mod.in_channels // mod.groups) * k

    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d)]
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, in_ch, h, w))
    for hd in hs:
        hd.remove()
    return macs[0]

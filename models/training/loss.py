"""Loss for DentalNet: a simplified task-aligned assignment (TOOD-style) with
IoU-aware soft class targets (BCE), plus GIoU box loss and a small L1 term.

Assignment per image: candidate anchor points are those whose centre lies
inside a GT box (or within `radius` strides of its centre, for small objects);
alignment t = score^alpha * IoU^beta of the anchor's predicted box for the GT's
class; each GT takes its top-k candidates; an anchor claimed by several GTs goes
to the one with the highest IoU.  The class target of a positive anchor is
t normalised so that each GT's best anchor gets that GT's max IoU.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def box_iou_pairwise(a, b, eps=1e-7):
    """a [M,4], b [N,4] -> [M,N] IoU."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None] - inter + eps)


def giou_loss(p, t, eps=1e-7):
    """Element-wise 1 - GIoU for matched boxes [K,4]."""
    lt = torch.max(p[:, :2], t[:, :2])
    rb = torch.min(p[:, 2:], t[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    ap = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    at = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    union = ap + at - inter + eps
    iou = inter / union
    clt = torch.min(p[:, :2], t[:, :2])
    crb = torch.max(p[:, 2:], t[:, 2:])
    cwh = (crb - clt).clamp(min=0)
    carea = cwh[:, 0] * cwh[:, 1] + eps
    return 1 - (iou - (carea - union) / carea), iou


class DetLoss:
    def __init__(self, nc, topk=10, alpha=1.0, beta=6.0, radius=1.0, w_cls=1.0, w_box=2.5, w_l1=0.05,
                 class_weights=None):
        self.nc, self.topk, self.alpha, self.beta, self.radius = nc, topk, alpha, beta, radius
        self.w_cls, self.w_box, self.w_l1 = w_cls, w_box, w_l1
        self.class_weights = class_weights  # tensor [nc] or None

    @torch.no_grad()
    def assign(self, scores, pboxes, anchors, strides, gt_boxes, gt_cls):
        """scores [N,nc] (sigmoid), pboxes [N,4], anchors [N,2], strides [N]; gt [M,4],[M].
        Returns fg mask [N], assigned gt index [N], target score [N]."""
        N, M = anchors.shape[0], gt_boxes.shape[0]
        fg = torch.zeros(N, dtype=torch.bool)
        tgt_idx = torch.zeros(N, dtype=torch.long)
        tscore = torch.zeros(N)
        if M == 0:
            return fg, tgt_idx, tscore
        ax, ay = anchors[:, 0][None], anchors[:, 1][None]
        inside = (ax > gt_boxes[:, 0:1]) & (ax < gt_boxes[:, 2:3]) & (ay > gt_boxes[:, 1:2]) & (ay < gt_boxes[:, 3:4])
        gcx = (gt_boxes[:, 0:1] + gt_boxes[:, 2:3]) / 2
        gcy = (gt_boxes[:, 1:2] + gt_boxes[:, 3:4]) / 2
        r = self.radius * strides[None]
        # small objects contain few anchor centres: anchors within `radius` strides of the
        # GT centre are candidates too (alignment then picks the best of them)
        near = ((ax - gcx).abs() < r) & ((ay - gcy).abs() < r)
        cand = inside | near
        ious = box_iou_pairwise(gt_boxes, pboxes).clamp(min=0)  # [M,N]
        s = scores[:, gt_cls].t()  # [M,N]
        align = s.pow(self.alpha) * ious.pow(self.beta)
        align = torch.where(cand, align, torch.zeros_like(align))
        k = min(self.topk, N)
        top_val, top_idx = align.topk(k, dim=1)
        mask = torch.zeros_like(align, dtype=torch.bool)
        mask.scatter_(1, top_idx, True)
        mask &= cand
        # GTs whose candidates all have zero alignment (early training): keep geometric candidates
        # ranked by closeness to the centre
        none = top_val[:, 0] <= 0
        if none.any():
            d = ((ax - gcx) ** 2 + (ay - gcy) ** 2)
            d = torch.where(cand, d, torch.full_like(d, float("inf")))
            _, near_idx = d.topk(k, dim=1, largest=False)
            m2 = torch.zeros_like(mask)
            m2.scatter_(1, near_idx, True)
            m2 &= cand
            mask[none] = m2[none]
        # resolve conflicts: highest IoU wins
        multi = mask.sum(0) > 1
        if multi.any():
            best = torch.where(mask, ious, torch.full_like(ious, -1.0)).argmax(0)
            onehot = F.one_hot(best, M).t().bool()
            mask = torch.where(multi[None], onehot & mask, mask)
        fg = mask.any(0)
        tgt_idx = mask.float().argmax(0)
        align = align * mask
        max_align = align.max(1, keepdim=True).values
        max_iou = (ious * mask).max(1, keepdim=True).values
        norm = (align / (max_align + 1e-9) * max_iou).max(0).values
        tscore = torch.where(fg, norm, torch.zeros_like(norm))
        return fg, tgt_idx, tscore

    def __call__(self, cls_logits, ltrb, anchors, strides, targets):
        """cls_logits [B,N,nc], ltrb [B,N,4] pixels, anchors [N,2], strides [N];
        targets: list of (boxes [M,4] tensor, classes [M] long tensor)."""
        B, N, nc = cls_logits.shape
        pboxes = torch.cat([anchors[None] - ltrb[..., :2], anchors[None] + ltrb[..., 2:]], -1)
        scores = cls_logits.detach().sigmoid()
        cls_t = torch.zeros(B, N, nc)
        box_losses, l1_losses, weights = [], [], []
        for b in range(B):
            gb, gc = targets[b]
            fg, idx, ts = self.assign(scores[b], pboxes[b].detach(), anchors, strides, gb, gc)
            if fg.any():
                cls_t[b, fg, gc[idx[fg]]] = ts[fg]
                tb = gb[idx[fg]]
                gl, _ = giou_loss(pboxes[b, fg], tb)
                w = ts[fg]
                box_losses.append((gl * w).sum())
                # l1 on normalised ltrb distances
                a = anchors[fg]
                tl = torch.cat([a - tb[:, :2], tb[:, 2:] - a], 1) / strides[fg, None]
                l1_losses.append(((ltrb[b, fg] / strides[fg, None] - tl).abs().mean(1) * w).sum())
                weights.append(w.sum())
        norm = max(cls_t.sum().item(), 1.0)
        bce = F.binary_cross_entropy_with_logits(cls_logits, cls_t, reduction="none")
        if self.class_weights is not None:
            bce = bce * self.class_weights
        l_cls = bce.sum() / norm
        if box_losses:
            l_box = torch.stack(box_losses).sum() / norm
            l_l1 = torch.stack(l1_losses).sum() / norm
        else:
            l_box = l_l1 = cls_logits.sum() * 0
        total = self.w_cls * l_cls + self.w_box * l_box + self.w_l1 * l_l1
        return total, {"cls": l_cls.item(), "box": l_box.item(), "l1": l_l1.item()}

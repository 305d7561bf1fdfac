#!/usr/bin/env python3
"""Reference values for detloss's `gradients = "authors"` simulation mode.

A literal Python port of the DIoU authors' simulation code (Zheng et al.,
AAAI 2020, arXiv 1911.08287; GitHub Zzh-tju/DIoU, folder
`simulation experiment/`: `test_1715k.m`, `simple_test.m`, `dIOU.m`,
`dGIOU.m`, `dDIOU.m`, `dCIOU.m`, `dIbox.m`, `dUbox.m`, `dXbox.m`, `dCbox.m`,
`In.m`, `cover.m`, `iou.m`, `to_tblr.m`, `to_xywh.m`): every function keeps
the MATLAB name, branch and operation order, so that its numbers are what the
MATLAB code computes (up to libm last bits). It is written independently of
detloss's Rust port (`src/losses/authors.rs`), which the tests compare with
the JSON this script writes.

MATLAB's `rng default` stream is MT19937 seeded with 5489, and `rand` is
genrand_res53 — exactly Python's `random.random()` on that state.

Usage (no dependencies beyond the standard library):

    python3 scripts/diou_authors_reference.py > tests/golden/diou_authors.json
"""
import json
import math
import random

class S: pass
def to_tblr(X):
    x,y,w,h=X; s=S(); s.t=y-h/2; s.b=y+h/2; s.l=x-w/2; s.r=x+w/2; return s
def to_xywh(A):
    s=S(); s.dx=A.dl+A.dr; s.dy=A.dt+A.db; s.dw=A.dr-A.dl; s.dh=A.db-A.dt; return s
def In(A,B):
    s=S(); s.t=max(A.t,B.t); s.b=min(A.b,B.b); s.l=max(A.l,B.l); s.r=min(A.r,B.r); return s
def cover(A,B):
    s=S(); s.t=min(A.t,B.t); s.b=max(A.b,B.b); s.l=min(A.l,B.l); s.r=max(A.r,B.r); return s
def dXbox(X):
    s=S(); s.dt=-(X.r-X.l); s.db=X.r-X.l; s.dl=-(X.b-X.t); s.dr=X.b-X.t; return s
def dIbox(p,g):
    I=In(p,g); s=S()
    s.dt=-(I.r-I.l) if p.t>g.t else 0.0
    s.db=(I.r-I.l) if p.b<g.b else 0.0
    s.dl=-(I.b-I.t) if p.l>g.l else 0.0
    s.dr=(I.b-I.t) if p.r<g.r else 0.0
    return s
def dCbox(p,g):
    C=cover(p,g); s=S()
    s.dt=-(C.r-C.l) if p.t<g.t else 0.0
    s.db=(C.r-C.l) if p.b>g.b else 0.0
    s.dl=-(C.b-C.t) if p.l<g.l else 0.0
    s.dr=(C.b-C.t) if p.r>g.r else 0.0
    return s
def dUbox(p,g):
    dX=dXbox(p); dI=dIbox(p,g); s=S()
    s.dt=dX.dt-dI.dt; s.db=dX.db-dI.db; s.dl=dX.dl-dI.dl; s.dr=dX.dr-dI.dr; return s
def iou(p,g):
    Ib=In(p,g); I=(Ib.b-Ib.t)*(Ib.r-Ib.l)
    U=(p.b-p.t)*(p.r-p.l)+(g.b-g.t)*(g.r-g.l)-I
    return I/U if (Ib.t<Ib.b and Ib.l<Ib.r) else 0.0
def dIOU(p,g):
    Ib=In(p,g); I=(Ib.b-Ib.t)*(Ib.r-Ib.l)
    U=(p.b-p.t)*(p.r-p.l)+(g.b-g.t)*(g.r-g.l)-I
    dI=dIbox(p,g); dU=dUbox(p,g); s=S()
    if Ib.t<Ib.b and Ib.l<Ib.r and U>0:
        s.dt=(U*dI.dt-I*dU.dt)/(U*U); s.db=(U*dI.db-I*dU.db)/(U*U)
        s.dl=(U*dI.dl-I*dU.dl)/(U*U); s.dr=(U*dI.dr-I*dU.dr)/(U*U)
    else:
        s.dt=s.db=s.dl=s.dr=0.0
    if not (p.t<p.b):
        s.dt=s.db; s.db=s.dt
    if not (p.l<p.r):
        s.dl=s.dr; s.dr=s.dl
    return s
def dGIOU(p,g):
    Ib=In(p,g); I=(Ib.b-Ib.t)*(Ib.r-Ib.l)
    U=(p.b-p.t)*(p.r-p.l)+(g.b-g.t)*(g.r-g.l)-I
    dU=dUbox(p,g); Cb=cover(p,g); dC=dCbox(p,g); C=(Cb.b-Cb.t)*(Cb.r-Cb.l); s=S()
    if Ib.t<Ib.b and Ib.l<Ib.r:
        d=dIOU(p,g); s.dt,s.db,s.dl,s.dr=d.dt,d.db,d.dl,d.dr
        if C>0:
            s.dt+=(C*dU.dt-U*dC.dt)/(C*C); s.db+=(C*dU.db-U*dC.db)/(C*C)
            s.dl+=(C*dU.dl-U*dC.dl)/(C*C); s.dr+=(C*dU.dr-U*dC.dr)/(C*C)
    else:
        s.dt=(C*dU.dt-U*dC.dt)/(C*C); s.db=(C*dU.db-U*dC.db)/(C*C)
        s.dl=(C*dU.dl-U*dC.dl)/(C*C); s.dr=(C*dU.dr-U*dC.dr)/(C*C)
    return s
def _penalty(A,B,p,g):
    Cb=cover(p,g)
    C=(Cb.b-Cb.t)*(Cb.b-Cb.t)+(Cb.r-Cb.l)*(Cb.r-Cb.l)
    CCw=Cb.r-Cb.l; CCh=Cb.b-Cb.t
    Ct=(0,1,0,-0.5) if p.t<g.t else (0,0,0,0)
    Cbb=(0,1,0,0.5) if p.b>g.b else (0,0,0,0)
    Cl=(1,0,-0.5,0) if p.l<g.l else (0,0,0,0)
    Cr=(1,0,0.5,0) if p.r>g.r else (0,0,0,0)
    Cw=[Cr[0]-Cl[0], Cbb[1]-Ct[1], Cr[2]-Cl[2], Cbb[3]-Ct[3]]
    Ch=[Cr[0]-Cl[0], Cbb[1]-Ct[1], Cr[2]-Cl[2], Cbb[3]-Ct[3]]
    if p.l<g.l and p.r>g.r: Cw[2]=-1
    if p.t<g.t and p.b>g.b: Ch[3]=-1
    d=(A[0]-B[0])**2+(A[1]-B[1])**2
    dx=(2*(B[0]-A[0])*C-(2*CCw*Cw[0]+2*CCh*Ch[0])*d)/(C*C)
    dy=(2*(B[1]-A[1])*C-(2*CCw*Cw[1]+2*CCh*Ch[1])*d)/(C*C)
    dw=(2*CCw*Cw[2]+2*CCh*Ch[2])*d/(C*C)
    dh=(2*CCw*Cw[3]+2*CCh*Ch[3])*d/(C*C)
    return dx,dy,dw,dh
def dDIOU(A,B):
    p=to_tblr(A); g=to_tblr(B)
    dx,dy,dw,dh=_penalty(A,B,p,g)
    di=dIOU(p,g)
    s=S(); s.dx=di.dl+di.dr+dx; s.dy=di.dt+di.db+dy; s.dw=(di.dr-di.dl)+dw; s.dh=(di.db-di.dt)+dh
    return s
def dCIOU(A,B):
    p=to_tblr(A); g=to_tblr(B)
    IoU=iou(p,g)
    dx,dy,dw,dh=_penalty(A,B,p,g)
    at=math.atan(B[2]/B[3])-math.atan(A[2]/A[3])
    v=4/(math.pi*math.pi)*at*at
    ldw=8/(math.pi*math.pi)*at*A[3]
    ldh=-8/(math.pi*math.pi)*at*A[2]
    alpha=v/(1-IoU+v+0.0000001)
    dw+=alpha*ldw; dh+=alpha*ldh
    di=dIOU(p,g)
    s=S(); s.dx=di.dl+di.dr+dx; s.dy=di.dt+di.db+dy; s.dw=(di.dr-di.dl)+dw; s.dh=(di.db-di.dt)+dh
    return s
def grad(kind,pred,gt):
    if kind=='iou': return to_xywh(dIOU(to_tblr(pred),to_tblr(gt)))
    if kind=='giou': return to_xywh(dGIOU(to_tblr(pred),to_tblr(gt)))
    if kind=='diou': return dDIOU(pred,gt)
    if kind=='ciou': return dCIOU(pred,gt)
def run(kind,pred,gt,T=200):
    pred=list(pred); curve=[]; acc=0.0
    for k in range(1,T+1):
        lr=0.1 if k<=160 else (0.01 if k<=180 else 0.001)
        IO=iou(to_tblr(pred),to_tblr(gt))
        d=grad(kind,pred,gt)
        pred=[pred[0]+lr*(2-IO)*d.dx, pred[1]+lr*(2-IO)*d.dy, pred[2]+lr*(2-IO)*d.dw, pred[3]+lr*(2-IO)*d.dh]
        e=sum(abs(a-b) for a,b in zip(pred,gt)); curve.append(e); acc+=e
    return pred,curve,acc


def matlab_default_rng():
    """MATLAB's `rng default`: MT19937 init_genrand(5489)."""
    mt = [0] * 624
    mt[0] = 5489
    for i in range(1, 624):
        mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & 0xFFFFFFFF
    r = random.Random()
    r.setstate((3, tuple(mt) + (624,), None))
    return r


def main():
    r = matlab_default_rng()
    first_draws = [r.random() for _ in range(10)]
    r = matlab_default_rng()
    rr = [3 * math.sqrt(r.random()) for _ in range(5000)]
    se = [2 * math.pi * r.random() for _ in range(5000)]
    xx = [10 + rr[i] * math.cos(se[i]) for i in range(5000)]
    yy = [10 + rr[i] * math.sin(se[i]) for i in range(5000)]
    c1, c2 = math.sqrt(3), math.sqrt(2)
    ar = [(0.5, 2.0), (c1 / 3, c1), (c2 / 2, c2), (1.0, 1.0), (c2, c2 / 2), (c1, c1 / 3), (2.0, 0.5)]
    sc = [0.5, 0.67, 0.75, 1.0, 1.33, 1.5, 2.0]
    cases = [
        ("simple_test.m default", [10.5, 11.6, 2.2, 3.0], [10, 10, 1, 1]),
        ("non-overlapping", [12.5, 10.2, 0.7, 0.7], [10, 10, 0.5, 2.0]),
        ("containing the target", [10.05, 10.02, 2.0, 3.0], [10, 10, 1, 1]),
        ("horizontal, apart", [12.0, 10.0, 1.0, 1.0], [10, 10, 1, 1]),
        ("vertical, overlapping", [10.0, 10.6, 1.0, 1.0], [10, 10, 1, 1]),
    ]
    # test_1715k.m cases of the first three anchor centres (one per target).
    for i in range(3):
        for c in range(7):
            o, l = (i + c) % 7, (2 * i + c) % 7
            gw, gh = ar[c]
            s = sc[o] * gw * gh
            pred = [xx[i], yy[i], ar[l][0] * math.sqrt(s), ar[l][1] * math.sqrt(s)]
            cases.append((f"test_1715k i={i + 1} c={c + 1} o={o + 1} l={l + 1}", pred, [10, 10, gw, gh]))
    out = {
        "about": "scripts/diou_authors_reference.py: literal port of the DIoU authors' MATLAB simulation",
        "matlab_rng_default_first_draws": first_draws,
        "centres": {"1": [xx[0], yy[0]], "2": [xx[1], yy[1]], "3": [xx[2], yy[2]], "5000": [xx[4999], yy[4999]]},
        "cases": [],
    }
    for name, pred, gt in cases:
        for kind in ("iou", "giou", "diou", "ciou"):
            d = grad(kind, pred, gt)
            fin, curve, acc = run(kind, pred, gt)
            out["cases"].append({
                "case": name,
                "loss": kind,
                "pred": pred,
                "target": [float(v) for v in gt],
                "iou": iou(to_tblr(pred), to_tblr(gt)),
                "grad": [d.dx, d.dy, d.dw, d.dh],
                "after_one_step_error": curve[0],
                "final": fin,
                "final_error": curve[-1],
            })
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

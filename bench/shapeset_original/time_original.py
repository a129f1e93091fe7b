"""Times the original Shapeset-3x2 pipeline (polygongen + pygame buildimage), one core.

Run through run.sh, which puts the Python-3-edited original modules on PYTHONPATH.
Prints (and with --out writes) JSON shaped like `shapeset bench`.
"""
import argparse, json, os, time
import warnings

warnings.simplefilter("ignore")  # pygame 2 deprecates surfarray.use_arraytype
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
from polygongen import Polygongen  # noqa: E402
from buildfeaturespolygon import buildimage  # noqa: E402
import pygame  # noqa: E402

# simpleexemple.py's Shapeset-3x2 parameters.
GENPARAMS = {'inv_chance': 0.5, 'img_shape': (32, 32), 'n_vert_list': [3, 4, 20], 'fg_min': 0.55,
             'fg_max': 1.0, 'bg_min': 0.0, 'bg_max': 0.45, 'rot_min': 0.0, 'rot_max': 1, 'pos_min': 0,
             'pos_max': 1, 'scale_min': 0.2, 'scale_max': 0.8, 'rotation_resolution': 255,
             'nb_poly_max': 2, 'nb_poly_min': 1, 'overlap_max': 0.5, 'poly_type': 2,
             'rejectionmax': 50, 'overlap_bool': True}

parser = argparse.ArgumentParser()
parser.add_argument("--count", type=int, default=20000)
parser.add_argument("--batch", type=int, default=10, help="images per iterator step (curridata's batchsize)")
parser.add_argument("--out")
args = parser.parse_args()

def run(render):
    it = Polygongen(**GENPARAMS).iterator(args.batch, seed=0)
    start = time.perf_counter()
    for _ in range(args.count // args.batch):
        scenes = next(it)
        if render:
            buildimage(neg=True, **scenes)
    return args.batch * (args.count // args.batch) / (time.perf_counter() - start)

scenes_per_s = run(render=False)
images_per_s = run(render=True)
report = {"generator": "glorotxa/Shapeset polygongen.py + buildfeaturespolygon.buildimage (Python 3 edit)",
          "count": args.batch * (args.count // args.batch), "batch": args.batch, "threads": 1,
          "images_per_s": images_per_s, "per_core": images_per_s, "scenes_only_per_s": scenes_per_s,
          "pygame": pygame.version.ver}
text = json.dumps(report, indent=2)
print(text)
if args.out:
    with open(args.out + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(args.out + ".tmp", args.out)

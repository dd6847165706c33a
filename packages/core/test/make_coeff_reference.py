"""Reference for the emotion VAE's 58-d regressor (coeff_reg: Linear -> tanh -> Linear), a formula, computed in NumPy
from the parity checkpoint without torch (zip + restricted unpickler). Writes fixtures/parity/outputs/vae_coefficients.npy
for inputs/emotion_seq.npy. usage: python3 make_coeff_reference.py"""
import collections
import pickle
import zipfile
from pathlib import Path

import numpy as np

root = Path(__file__).parent / "fixtures" / "parity"


def load_state_dict(path):
    z = zipfile.ZipFile(path)
    pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
    prefix = pkl[: -len("data.pkl")]

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                def rebuild(storage, offset, size, stride, *_):
                    arr = np.frombuffer(z.read(prefix + "data/" + storage), dtype=np.float32)
                    return np.lib.stride_tricks.as_strided(arr[offset:], size, [s * 4 for s in stride]).copy()
                return rebuild
            if (module, name) == ("torch", "FloatStorage"):
                return "float32"
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

        def persistent_load(self, pid):
            assert pid[0] == "storage" and pid[1] == "float32" and str(pid[3]).startswith("cpu")
            return pid[2]

    return Unpickler(z.open(pkl)).load()["state_dict"]


sd = load_state_dict(root / "checkpoints" / "embedder_latent" / "checkpoint.pth")
x = np.load(root / "inputs" / "emotion_seq.npy").astype(np.float64)
h = np.tanh(x @ sd["coeff_reg.0.weight"].T.astype(np.float64) + sd["coeff_reg.0.bias"])
y = h @ sd["coeff_reg.2.weight"].T.astype(np.float64) + sd["coeff_reg.2.bias"]
np.save(root / "outputs" / "vae_coefficients.npy", y.astype(np.float32))
print("vae_coefficients", y.shape)

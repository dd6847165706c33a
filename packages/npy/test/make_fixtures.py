# Writes test/fixtures/*.npy with NumPy (run: python3 make_fixtures.py from this folder).
import os
import numpy as np
os.chdir(os.path.join(os.path.dirname(__file__), "fixtures"))
np.save('f4_2x3.npy', np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
np.save('f8_big_endian.npy', np.array([1.5, -2.25, 1e300], dtype='>f8'))
np.save('b1_3.npy', np.array([True, False, True]))
np.save('i8_2x2.npy', np.array([[1, -2], [3, 2**40]], dtype=np.int64))
np.save('fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
np.save('complex.npy', np.ones(2, dtype=np.complex64))
np.save('scalar.npy', np.float64(3.5))

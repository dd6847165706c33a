"""Re-packs the (torch-written) PSSL parity checkpoint as a zip64 archive with deflated entries, to test the
file-backed reader's zip64 and inflate paths without a multi-GB file: Python's zipfile writes genuine zip64 records
once its size/count limits are lowered. usage: python3 make_zip64_fixture.py"""
import zipfile
from pathlib import Path

root = Path(__file__).parent / "fixtures" / "parity"
src = zipfile.ZipFile(root / "checkpoints" / "person_specific" / "checkpoint.pth")
zipfile.ZIP64_LIMIT = 16  # every size/offset above 16 bytes goes into zip64 extra fields
zipfile.ZIP_FILECOUNT_LIMIT = 1  # forces the zip64 end-of-central-directory record
with zipfile.ZipFile(root / "reader" / "zip64_deflated.pth", "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as out:
    for info in src.infolist():
        with out.open(info.filename, "w", force_zip64=True) as f:
            f.write(src.read(info.filename))
print("wrote", root / "reader" / "zip64_deflated.pth")

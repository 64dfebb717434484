"""Builds metaopt._core with CMake (the pattern of pybind11's cmake_example).

Everything else about the package lives in pyproject.toml; this file only teaches setuptools'
build_ext to run CMake and to put the compiled module inside the metaopt package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pybind11
from setuptools import Extension
from setuptools import setup
from setuptools.command.build_ext import build_ext

_ROOT = Path(__file__).parent.resolve()
_DEFAULT_JOBS = "2"  # the development machines have two cores


class CMakeExtension(Extension):
    """An extension built by CMakeLists.txt in ``sourcedir`` rather than from listed sources."""

    def __init__(self, name: str, sourcedir: Path = _ROOT) -> None:
        super().__init__(name, sources=[])
        self.sourcedir = os.fspath(sourcedir)


class CMakeBuild(build_ext):
    """Configures and builds one CMakeExtension, writing the module where setuptools expects it."""

    def build_extension(self, ext: Extension) -> None:
        if not isinstance(ext, CMakeExtension):
            super().build_extension(ext)
            return
        ext_dir = (Path.cwd() / self.get_ext_fullpath(ext.name)).parent.resolve()
        build_dir = Path(self.build_temp).resolve() / ext.name
        build_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["cmake", "-S", ext.sourcedir, "-B", str(build_dir), *self._configure_args(ext_dir)],
            check=True,
        )
        subprocess.run(["cmake", "--build", str(build_dir), *self._build_args()], check=True)

    def _configure_args(self, ext_dir: Path) -> list[str]:
        build_type = "Debug" if self.debug else "Release"
        args = [
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={ext_dir}{os.sep}",
            f"-DCMAKE_BUILD_TYPE={build_type}",
            # Both spellings: pybind11's FindPython mode reads the second, older code the first.
            f"-DPYTHON_EXECUTABLE={sys.executable}",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
        ]
        return args + os.environ.get("CMAKE_ARGS", "").split()

    def _build_args(self) -> list[str]:
        # CMake reads CMAKE_BUILD_PARALLEL_LEVEL itself; only pick a default when it is unset.
        if "CMAKE_BUILD_PARALLEL_LEVEL" in os.environ:
            return []
        return ["-j", _DEFAULT_JOBS]


setup(
    ext_modules=[CMakeExtension("metaopt._core")],
    cmdclass={"build_ext": CMakeBuild},
)

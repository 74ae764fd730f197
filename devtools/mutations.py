"""The mutations ``python -m devtools.mutate`` applies: one critical behaviour broken at a
time, with the few tests that must catch it (kept small so a full run takes minutes).

Each mutation replaces *old* (which must occur exactly once in *path*) with *new*. The
first twelve are the behaviours issue 16's audit named or implied; the rest cover
write-once on every backend, hash checks, lock provenance, config round trips, path
rules and redirects.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MUTATIONS", "Mutation"]


@dataclass(frozen=True)
class Mutation:
    id: str
    behaviour: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


_PUB = "poetry_wheelmirror/mirror/publishers.py"
_MAN = "poetry_wheelmirror/manifest.py"
_PROV = "poetry_wheelmirror/provenance.py"
_ROUTER = "poetry_wheelmirror/serve/router.py"
_GH_E2E = "tests/e2e/test_publish_github_fake.py"
_POETRY_CHECK = "poetry_wheelmirror/doctor/poetry_check.py"

MUTATIONS: tuple[Mutation, ...] = (
    # -- the twelve of the audit ----------------------------------------------------------
    Mutation(
        "github-digest-compare",
        "GitHub write-once: an asset with GitHub's digest is compared by sha256",
        _PUB,
        "            return asset.sha256 == item.sha256\n",
        "            return True\n",
        (f"{_GH_E2E}::test_a_same_size_asset_with_other_bytes_is_refused",),
    ),
    Mutation(
        "github-bytes-compare",
        "GitHub write-once: without a digest the served bytes are compared",
        _PUB,
        "        return hashlib.sha256(self.api.download(asset)).hexdigest() == item.sha256\n",
        "        return True\n",
        (f"{_GH_E2E}::test_a_same_size_asset_with_other_bytes_is_refused",),
    ),
    Mutation(
        "manifest-wheel-filename",
        "manifest parser refuses an unsafe wheel filename",
        _MAN,
        '    filename = reader.get_str("filename", checked=True)\n'
        "    problem = filename_problem(filename) or wheel_filename_problem(filename)\n"
        "    if problem:\n        raise reader._fail(\"filename\", problem)\n    try:\n"
        "        wheel_name",
        '    filename = reader.get_str("filename", checked=True)\n    try:\n        wheel_name',
        ("tests/property/test_fuzz_manifest.py::test_smuggled_wheel_filenames_are_refused",),
    ),
    Mutation(
        "manifest-wheel-identity",
        "manifest parser refuses a wheel of another project",
        _MAN,
        "    if wheel_name != name:\n",
        "    if False:\n",
        ("tests/unit/test_manifest.py::test_each_bad_example_raises_one_line_naming_the_problem",),
    ),
    Mutation(
        "manifest-sha256-format",
        "manifest parser refuses a malformed sha256",
        _MAN,
        "        if not _SHA256.fullmatch(value):",
        "        if not value:",
        ("tests/unit/test_manifest.py::test_each_bad_example_raises_one_line_naming_the_problem",),
    ),
    Mutation(
        "package-doc-digest",
        "a package document must match the sha256 the root manifest lists",
        "poetry_wheelmirror/mirror_client.py",
        "            if digest != ref.sha256:\n                msg = f\"sha256 {digest} does not",
        "            if False:\n                msg = f\"sha256 {digest} does not",
        ("tests/unit/test_mirror_reader.py",),
    ),
    Mutation(
        "download-sha256",
        "a download is verified against its sha256 before it is moved into place",
        "poetry_wheelmirror/client.py",
        "            if digest.hexdigest() != sha256:\n",
        "            if False:\n",
        ("tests/unit/test_client.py::test_download_verifies_before_moving_into_place",),
    ),
    Mutation(
        "provenance-subject",
        "a verified attestation must name the wheel's sha256",
        _PROV,
        "    if sha256.lower() not in subjects:\n",
        "    if False:\n",
        ("tests/e2e/test_provenance.py::test_verification_failures_are_one_line",),
    ),
    Mutation(
        "provenance-require",
        "provenance = require refuses a wheel with no attestation",
        _PROV,
        "    strict = policy == \"require\"\n",
        "    strict = False\n",
        ("tests/unit/test_provenance.py::test_require",),
    ),
    Mutation(
        "lock-provenance",
        "the plugin uses a mirror wheel only if it was built from an sdist poetry.lock lists",
        "poetry_wheelmirror/redirect.py",
        "    if source_hash not in locked_hashes:\n",
        "    if False:\n",
        ("tests/unit/test_redirect.py::test_decide",),
    ),
    Mutation(
        "directory-write-once",
        "directory publishing never overwrites a file with other bytes",
        _PUB,
        "            if dest.stat().st_size != item.size or sha256_file(dest) != item.sha256:\n",
        "            if False:\n",
        ("tests/unit/test_publish.py::test_directory_backend_is_write_once",),
    ),
    Mutation(
        "store-write-once",
        "wheelmirror build never overwrites a stored wheel with other bytes",
        "poetry_wheelmirror/mirror/store.py",
        "                    if sha256_file(dest) != wheel.sha256:\n",
        "                    if False:\n",
        ("tests/unit/test_store.py::test_refusals_leave_the_mirror_as_it_was",),
    ),
    # -- eight and more ---------------------------------------------------------------------
    Mutation(
        "store-pypi-filename",
        "the mirror never publishes a wheel PyPI already has (spelling aside)",
        "poetry_wheelmirror/mirror/store.py",
        "        if wheel_key(wheel.filename) in pypi_keys:\n",
        "        if False:\n",
        ("tests/unit/test_store.py::test_refusals_leave_the_mirror_as_it_was",),
    ),
    Mutation(
        "build-pure-fallback",
        "a build whose C failed to compile and fell back to pure Python is not published",
        "poetry_wheelmirror/mirror/build/attempt.py",
        "        if not extension_modules(built[0]) and _COMPILE_ERROR.search(\n",
        "        if False and _COMPILE_ERROR.search(\n",
        ("tests/e2e/test_build_fallback.py",),
    ),
    Mutation(
        "lockbuild-longest-first",
        "a lock build starts the biggest sdists first and reports in the lock's order",
        "poetry_wheelmirror/mirror/lockbuild.py",
        "    return sorted(enumerate(tasks), key=lambda pair: -pair[1].sdist.size)\n",
        "    return list(enumerate(tasks))\n",
        (
            "tests/unit/test_lockbuild.py"
            "::test_biggest_sdists_start_first_and_rows_keep_the_lock_order",
        ),
    ),
    Mutation(
        "github-upload-digest",
        "GitHub publishing checks the digest GitHub reports for what was uploaded",
        _PUB,
        "        if asset.sha256 and asset.sha256 != item.sha256:\n",
        "        if False:\n",
        ("tests/unit/test_publish.py::test_an_upload_github_stored_with_other_bytes_is_an_error",),
    ),
    Mutation(
        "remote-plain-http",
        "plain http is allowed only to loopback hosts",
        "poetry_wheelmirror/urls.py",
        "        if is_loopback_host(host):\n            return None\n",
        "        return None\n",
        ("tests/unit/test_client.py::test_refused_schemes",
         "tests/unit/test_manifest.py::test_each_bad_example_raises_one_line_naming_the_problem"),
    ),
    Mutation(
        "filename-dotdot",
        "a filename with a separator or '..' is refused",
        "poetry_wheelmirror/names.py",
        '    if "/" in filename or "\\\\" in filename or ".." in filename:\n',
        '    if "/" in filename:\n',
        ("tests/unit/test_publish.py::test_directory_backend_refuses_unsafe_names",
         "tests/property/test_fuzz_names_tags.py::test_hostile_pieces_are_rejected"),
    ),
    Mutation(
        "router-path-rule",
        "the routing index serves no file outside the mirror folder",
        _ROUTER,
        "                if filename_problem(segment):\n",
        "                if False:\n",
        ("tests/unit/test_router.py::test_no_escape_from_the_directory",),
    ),
    Mutation(
        "router-upstream-redirect",
        "the routing index sends a project it does not carry to the upstream page",
        _ROUTER,
        "            return _redirect(strip_userinfo(self.upstream.page_url(name)))\n",
        "            return _plain(404, b\"not on this mirror\\n\")\n",
        ("tests/unit/test_router.py::test_unsupported_package_redirects_to_upstream",),
    ),
    Mutation(
        "router-normalise-redirect",
        "the routing index redirects an unnormalised project name to its normal form",
        _ROUTER,
        "        if name != raw or not slash:\n",
        "        if not slash:\n",
        ("tests/unit/test_router.py::test_names_are_normalised_by_redirect",),
    ),
    Mutation(
        "pipconf-restore",
        "pip-config --remove restores the user's own index-url it disabled",
        "poetry_wheelmirror/installers/pipconf.py",
        "        line[len(DISABLED_MARK) :] if line.startswith(DISABLED_MARK) else line for line in lines\n",
        "        line for line in lines\n",
        ("tests/unit/test_pipconf.py",),
    ),
    Mutation(
        "uvconf-remove-sources",
        "uv-config --remove drops the sources that name the mirror index",
        "poetry_wheelmirror/installers/uvconf.py",
        # --remove takes out whole marked blocks, each line of which must be one uv-config
        # writes: without the source-entry pattern the sources are no longer removed.
        "            f'[a-z0-9-]+ = \\\\{{ index = \"{INDEX_NAME}\" \\\\}}',\n",
        "",
        ("tests/unit/test_uvconf.py",),
    ),
    Mutation(
        "config-backup",
        "writing pip.conf keeps a backup of the old content",
        "poetry_wheelmirror/installers/pipfiles.py",
        "    if old is not None and backup:\n",
        "    if False:\n",
        ("tests/unit/test_pipconf.py::test_write_is_atomic_keeps_mode_and_backs_up",),
    ),
    Mutation(
        "yanked-wheel",
        "the plugin does not use a yanked mirror wheel",
        "poetry_wheelmirror/redirect.py",
        "    if wheel.yanked:\n",
        "    if False:\n",
        ("tests/unit/test_redirect.py::test_decide",),
    ),
    Mutation(
        "size-limit",
        "a response larger than its limit is refused",
        "poetry_wheelmirror/client.py",
        "                if total > max_bytes:\n",
        "                if False:\n",
        ("tests/unit/test_client.py::test_size_limit",),
    ),
    Mutation(
        "doctor-old-poetry",
        "the doctor fails a Poetry outside 2.x",
        _POETRY_CHECK,
        '    if not (Version("2.0") <= parsed < Version("3")):\n',
        "    if False:\n",
        ("tests/unit/test_doctor.py::test_check_poetry",
         "tests/e2e/test_doctor_real_poetry.py::test_an_old_real_poetry_is_refused"),
    ),
    Mutation(
        "doctor-broken-plugin",
        "the doctor names a plugin that stops Poetry from starting (real Poetry 2.5.1)",
        _POETRY_CHECK,
        "        if bare.returncode == 0:\n",
        "        if False:\n",
        ("tests/e2e/test_doctor_real_poetry.py::test_a_real_broken_plugin_is_named",),
    ),
    Mutation(
        "doctor-timeout",
        "the doctor reports a Poetry that does not answer (real Poetry 2.5.1)",
        _POETRY_CHECK,
        "    if version_run.returncode is None:\n",
        "    if False:\n",
        ("tests/e2e/test_doctor_real_poetry.py::test_a_real_poetry_that_hangs_times_out",),
    ),
)

"""中文 (issue 13): the language choice, the gettext catalog and its completeness, Msg templates, and
that machine output (--json, finding codes, exit codes) never changes with the language.

The catalog checks derive the message ids from the code (an AST scan of `_()`, `N_()`, `Msg()` and
`ngettext()` calls under envcheck/, scripts/extract_messages.py), not from a list typed here.
"""
from __future__ import annotations

import copy
import json
import os
import pickle
import re
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO, write_exe
from envcheck import i18n
from envcheck.i18n import Msg, choose_lang, lang_from_locale, tr

sys.path.insert(0, str(REPO / "scripts"))
import compile_po  # noqa: E402
import extract_messages  # noqa: E402

PO = REPO / "envcheck" / "locale" / "zh_CN" / "LC_MESSAGES" / "envcheck.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def zh():
    before = i18n.get_lang()
    i18n.set_lang("zh")
    yield
    i18n.set_lang(before)


# --- choosing the language --------------------------------------------------------------------

@pytest.mark.parametrize("value, lang", [
    ("zh_CN.UTF-8", "zh"), ("zh_CN.utf8", "zh"), ("zh_SG.UTF-8", "zh"), ("zh_Hans", "zh"), ("zh-Hans-CN", "zh"),
    ("zh_Hans_SG.UTF-8", "zh"), ("zh", "zh"), ("zh_CN.GB18030@pinyin", "zh"), ("ZH_cn", "zh"),
    ("zh_TW.UTF-8", "en"), ("zh_HK.UTF-8", "en"), ("zh_MO", "en"), ("zh_Hant_TW", "en"), ("zh-Hant", "en"),
    ("en_US.UTF-8", "en"), ("C", "en"), ("POSIX", "en"), ("C.UTF-8", "en"), ("ja_JP.UTF-8", "en"), ("en", "en"),
    ("", None), ("   ", None), (None, None),
])
def test_lang_from_locale(value, lang):
    assert lang_from_locale(value) == lang


@pytest.mark.parametrize("argv, env, lang", [
    ([], {}, "en"),
    ([], {"LANG": "zh_CN.UTF-8"}, "zh"),
    ([], {"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ([], {"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),  # POSIX: the first non-empty one decides
    ([], {"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),  # an empty one is unset
    ([], {"LC_ALL": "zh_SG.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "zh"),
    ([], {"ENVCHECK_LANG": "en", "LC_ALL": "zh_CN.UTF-8"}, "en"),
    ([], {"ENVCHECK_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
    ([], {"ENVCHECK_LANG": "", "LANG": "zh_CN.UTF-8"}, "zh"),
    ([], {"LANG": "zh_TW.UTF-8"}, "en"),
    (["--lang", "zh", "doctor"], {"ENVCHECK_LANG": "en"}, "zh"),
    (["--lang=en", "doctor"], {"ENVCHECK_LANG": "zh", "LANG": "zh_CN.UTF-8"}, "en"),
    (["--lang", "xx", "doctor"], {"LANG": "zh_CN.UTF-8"}, "zh"),  # a bad value is the CLI's to reject
    (["verify", "--", "--lang", "zh"], {}, "en"),
])
def test_choose_lang_order(argv, env, lang):
    assert choose_lang(argv, env) == lang


# --- the catalog --------------------------------------------------------------------------------

def test_every_message_id_in_the_code_has_a_translation():
    found, bad = extract_messages.extract()
    assert not bad, bad  # _()/Msg() with a computed text cannot be extracted nor translated
    assert len(found) > 150  # the scan sees the CLI and the findings
    have = extract_messages.catalog_ids(str(PO))
    missing = [f"{where[0]}: {msgid!r}" for msgid, where in found.items() if not have.get(msgid)]
    assert not missing, "untranslated (run scripts/extract_messages.py --append):\n" + "\n".join(missing)


def test_translations_keep_every_placeholder_and_say_it_in_chinese():
    def fields(text):
        return sorted((f, conv) for _, f, _, conv in string.Formatter().parse(text) if f is not None)

    for msgid, msgstr in extract_messages.catalog_ids(str(PO)).items():
        assert fields(msgstr) == fields(msgid), msgid
        if re.search(r"[a-z]{3,} [a-z]{3,}", msgid) and msgid not in ("interrupted",):
            assert CJK.search(msgstr), f"not translated into Chinese: {msgid!r} -> {msgstr!r}"


def test_committed_mo_is_the_compiled_po():
    assert MO.read_bytes() == compile_po.compile_file(str(PO)), "run python scripts/compile_po.py"
    assert compile_po.main(["--check", str(PO)]) == 0


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_compiler_matches_gnu_msgfmt(tmp_path):
    out = tmp_path / "ref.mo"
    subprocess.run(["msgfmt", "--check-format", "--no-hash", "-o", str(out), str(PO)], check=True)
    assert out.read_bytes() == MO.read_bytes()


def test_po_parser_handles_plurals_fuzzy_and_continuations():
    text = '\n'.join([
        'msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', '"Plural-Forms: nplurals=1; plural=0;\\n"', '',
        '#, fuzzy', 'msgid "skipped"', 'msgstr "跳过"', '',
        'msgid "one "', '"line"', 'msgstr "一"', '"行"', '',
        'msgid "{n} GPU"', 'msgid_plural "{n} GPUs"', 'msgstr[0] "{n} 块 GPU"', '',
        'msgid "untranslated"', 'msgstr ""', '',
    ])
    entries = compile_po.parse_po(text)
    assert entries["one line"] == "一行"
    assert entries["{n} GPU\0{n} GPUs"] == "{n} 块 GPU"
    assert "skipped" not in entries and "untranslated" not in entries
    import gettext
    import io

    cat = gettext.GNUTranslations(io.BytesIO(compile_po.build_mo(entries)))
    assert cat.gettext("one line") == "一行" and cat.ngettext("{n} GPU", "{n} GPUs", 3) == "{n} 块 GPU"


def test_extractor_flags_computed_texts():
    ids, bad = extract_messages.scan_source('_("a")\nMsg("b {x}", x=1)\nngettext("c", "d", 2)\n_(f"e{1}")\nMsg(t)\n')
    assert ids == ["a", "b {x}", "c", "d"]
    assert bad == [(4, "_"), (5, "Msg")]


# --- Msg: English for machines, a template for people ---------------------------------------------

def test_msg_is_its_english_text_everywhere_a_str_is_used():
    inner = Msg("this interpreter")
    m = Msg("torch is not installed in {python}.", python=inner)
    assert m == "torch is not installed in this interpreter." and isinstance(m, str)
    assert json.dumps({"message": m}) == '{"message": "torch is not installed in this interpreter."}'
    for twin in (copy.deepcopy(m), pickle.loads(pickle.dumps(m)), copy.copy(m)):
        assert twin == m and twin.msgid == m.msgid and twin.params["python"] == "this interpreter"


def test_tr_translates_templates_and_their_parameters(zh):
    m = Msg("torch is not installed in {python}.", python=Msg("this interpreter"))
    assert tr(m) == "该解释器中没有安装 torch。"
    assert tr(Msg("torch is not installed in {python}.", python="/opt/py/bin/python")) == "/opt/py/bin/python 中没有安装 torch。"
    assert tr("a probe's reason that no catalog has") == "a probe's reason that no catalog has"
    assert tr("") == "" and tr(None) is None and tr(3) == 3


def test_a_one_word_value_is_never_looked_up(zh):
    """A kernel called "info" stays "info" (the catalog has "info" as a severity word)."""
    m = Msg("kernel {name} ({where}): {error}", name="info", where="/k/info", error="no kernel.json")
    assert tr(m) == "内核 info（/k/info）：no kernel.json"


def test_tr_is_english_and_plain_in_english():
    i18n.set_lang("en")
    m = Msg("torch is not installed in {python}.", python="x")
    assert tr(m) == "torch is not installed in x." and type(tr(m)) is str


def test_a_broken_translation_falls_back_to_english(zh, monkeypatch):
    monkeypatch.setattr(i18n, "_", lambda text: "坏的 {missing}")
    assert tr(Msg("torch is not installed in {python}.", python="x")) == "torch is not installed in x."


@pytest.mark.e2e  # the real program as a subprocess (its locale, its import-time help)
def test_english_loads_no_catalog():
    code = ("import sys; from envcheck import i18n; i18n.set_lang('en'); i18n._('x'); i18n.tr('y');"
            "print('gettext' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert out.stdout.strip() == "False"


# --- the CLI ------------------------------------------------------------------------------------

def _envcheck(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG", "ENVCHECK_LANG")}
    return subprocess.run([sys.executable, "-m", "envcheck", *args], capture_output=True, text=True,
                          env=dict(base, **{"COLUMNS": "100", **env}), cwd=REPO)


@pytest.mark.e2e  # the real program as a subprocess (its locale, its import-time help)
def test_help_in_chinese_under_a_chinese_locale_and_english_otherwise():
    zh = _envcheck("--help", LANG="zh_CN.UTF-8")
    assert zh.returncode == 0 and "检测本机" in zh.stdout and "退出码" in zh.stdout
    en = _envcheck("--help", LANG="zh_CN.UTF-8", ENVCHECK_LANG="en")
    assert "Detect the machine" in en.stdout and not CJK.search(en.stdout)
    flag = _envcheck("--lang", "zh", "install", "--help", LANG="en_US.UTF-8")
    assert "算力" in flag.stdout and "镜像源" in flag.stdout
    assert "Traditional" not in _envcheck("--help", LANG="zh_TW.UTF-8").stdout and \
        not CJK.search(_envcheck("--help", LANG="zh_TW.UTF-8").stdout)


@pytest.mark.e2e  # the real program as a subprocess (its locale, its import-time help)
def test_errors_and_hints_in_chinese_but_the_envelope_in_english():
    r = _envcheck("--lang", "zh", "install", "--cpu", "--yes", "--json", LANG="en_US.UTF-8")
    assert r.returncode == 2
    assert r.stderr.startswith("错误：--yes 只能与 --execute 一起使用") and "提示：加上 --execute" in r.stderr
    envelope = json.loads(r.stdout)
    assert envelope["errors"] == [{"code": "execute-option", "message": "--yes only apply with --execute",
                                   "hint": "add --execute to create the env and install, or drop those options"}]


@pytest.mark.e2e  # the real program as a subprocess (its locale, its import-time help)
def test_a_bad_lang_is_a_usage_error():
    r = _envcheck("--lang", "fr", "doctor")
    assert r.returncode == 2 and "'fr' is not one of 'zh', 'en'" in r.stderr and r.stderr.startswith("error:")


def test_doctor_json_is_identical_in_chinese_and_english(clean_env, tmp_path, fake_bin, bare_python):
    """The replayed H100 (tests/doctor_standins.py) with a stand-in cu117 torch: findings with messages
    and fixes, the same bytes under LANG=zh_CN.UTF-8 and LANG=en_US.UTF-8 (and --lang zh)."""
    from doctor_standins import fake_cuda_torch, hermetic_env, install_nvidia_smi, unset_all

    from envcheck.cli import app

    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site", "1.13.1+cu117", "11.7")
    outs = []
    for lang, extra in (("en_US.UTF-8", []), ("zh_CN.UTF-8", []), ("en_US.UTF-8", ["--lang", "zh"])):
        env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site), LANG=lang))
        env.update(LC_ALL=None, LC_MESSAGES=None)
        result = CliRunner().invoke(app, [*extra, "doctor", "--json", "--python", bare_python], env=env)
        assert result.exit_code == 1
        outs.append(json.loads(result.stdout))
    for out in outs:  # what changes between any two runs: the time taken, the free disk space
        out["data"].pop("timings_s")
        out["data"]["system"].pop("disk_free_bytes", None)
    assert outs[0] == outs[1] == outs[2]
    assert not CJK.search(json.dumps(outs[1], ensure_ascii=False))
    assert "gpu-arch-not-in-torch-build" in [f["code"] for f in outs[1]["data"]["findings"]]


@pytest.mark.e2e  # the real program as a subprocess (its locale, its import-time help)
def test_install_json_is_identical_and_carries_the_mirror_commands():
    runs = [_envcheck("install", "--python", "3.7", "--os", "linux", "--arch", "x86_64", "--driver", "535.104.05",
                      "--cuda", "12.2", "--gpu-cc", "8.6", "--json", **env)
            for env in ({"LANG": "en_US.UTF-8"}, {"LANG": "zh_CN.UTF-8"})]
    assert runs[0].stdout == runs[1].stdout and runs[0].returncode == runs[1].returncode == 0
    data = json.loads(runs[0].stdout)["data"]
    mirror = data["mirror_commands"]
    assert mirror["mirror"] == "tuna" and [o["name"] for o in mirror["others"]][:2] == ["ustc", "bfsu"]
    assert "mirrors.tuna.tsinghua.edu.cn" in mirror["commands"]["create"]["conda"]
    with_mirror = _envcheck("install", "--python", "3.7", "--cpu", "--mirror", "ustc", "--json")
    assert json.loads(with_mirror.stdout)["data"]["mirror_commands"] is None


@pytest.mark.e2e  # the real program as a subprocess (its locale, its import-time help)
@pytest.mark.parametrize("command", [[], ["install"], ["verify"], ["kernel", "add"], ["fleet", "report"]])
def test_chinese_help_fits_80_columns(command):
    """click wraps by characters; Chinese characters take two columns (i18n.use_wide_char_wrapping)."""
    from envcheck.i18n import display_width

    r = _envcheck(*command, "--help", ENVCHECK_LANG="zh", COLUMNS="80")
    assert r.returncode == 0 and CJK.search(r.stdout)
    lines = r.stdout.splitlines()
    assert [line for line in lines if display_width(line) > 80] == []
    assert [line for line in lines if re.match(r"^\s*[，。、；：）]", line)] == []


# --- the human output in Chinese ------------------------------------------------------------------

def _untranslated(text: str) -> list:
    """English sentences of the catalog found in `text`: every msgid's longest literal piece of 3+ words
    (the text between its placeholders) whose translation differs from it."""
    leftovers = []
    for msgid, msgstr in extract_messages.catalog_ids(str(PO)).items():
        pieces = [literal for literal, _f, _s, _c in string.Formatter().parse(msgid)]
        piece = max(pieces, key=len).strip(" ;:,.()") if pieces else ""
        if len(piece.split()) >= 3 and piece not in msgstr and piece in text:
            leftovers.append(piece)
    return leftovers


def _cli(args, env, columns="80"):
    from envcheck.cli import app

    env = dict(env, COLUMNS=columns, LC_ALL=None, LC_MESSAGES=None)
    return CliRunner().invoke(app, args, env=env)


def test_doctor_renders_in_chinese(clean_env, tmp_path, fake_bin, bare_python):
    """The replayed H100 (tests/doctor_standins.py) with a stand-in cu117 torch, LANG=zh_CN.UTF-8, 80 columns."""
    from doctor_standins import fake_cuda_torch, hermetic_env, install_nvidia_smi, unset_all

    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site", "1.13.1+cu117", "11.7")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site), LANG="zh_CN.UTF-8"))
    out = _cli(["doctor", "--python", bare_python], env)
    assert out.exit_code == 1
    text = out.stdout
    for words in ("发现问题：gpu-arch-not-in-torch-build", "诊断结果", "驱动", "算力 9.0", "修复：", "不支持 GPU 0",
                  "CUDA：三个不同的版本号", "1 个错误，0 个警告"):
        assert words in text, words
    assert "gpu-arch-not-in-torch-build" in text  # codes stay as they are
    assert _untranslated(text) == []
    english = _cli(["doctor", "--python", bare_python], dict(env, LANG="en_US.UTF-8"))
    assert "Findings (fixes last)" in english.stdout and not CJK.search(english.stdout)


def test_install_python37_renders_in_chinese_with_the_tuna_routes():
    flags = ["install", "--python", "3.7", "--os", "linux", "--arch", "x86_64", "--driver", "535.104.05", "--gpu-cc", "8.6"]
    base = {k: None for k in ("ENVCHECK_LANG", "LANG")}
    zh = _cli(flags, dict(base, LANG="zh_CN.UTF-8"))
    assert zh.exit_code == 0, zh.output
    text = zh.stdout
    for words in ("为什么", "驱动 535.104.05 能跑 cu117", "CUDA 小版本兼容", "适用于 linux x86_64 上的 Python 3.7",
                  "走清华大学 TUNA 镜像源（--mirror tuna）", "其他镜像源：ustc"):
        assert words in text, words
    official = text.index("# venv + pip\n")
    tuna = text.index("pypi.tuna.tsinghua.edu.cn")
    assert official < tuna  # the mirror routes come beside (after) the official ones
    assert "conda create -n torch1.13.1-cu117 python=3.7 --override-channels -c https://mirrors.tuna.tsinghua.edu.cn" in text
    assert _untranslated(text) == []
    en = _cli(flags, dict(base, LANG="en_US.UTF-8"))
    assert "tuna" not in en.stdout and not CJK.search(en.stdout)
    ustc = _cli(flags + ["--mirror", "ustc"], dict(base, LANG="zh_CN.UTF-8"))
    assert "TUNA" not in ustc.stdout and "mirrors.ustc.edu.cn" in ustc.stdout  # --mirror given: no second route


def test_verify_renders_in_chinese(zh):
    """verify's live lines and summary from a Result (the suite's own check messages are the target's text)."""
    import io

    from rich.console import Console

    from envcheck.render import verify as view
    from envcheck.results import CheckResult, Result

    checks = [CheckResult("torch-import", "import torch", "ok", 3.2, "torch 2.13.0+cpu, CPU build"),
              CheckResult("cuda-available", "CUDA available", "fail", 0.1, "torch.cuda.is_available() is False",
                          "update the NVIDIA driver"),
              CheckResult("mps", "MPS", "skip", 0.0, "MPS exists only on Apple silicon macOS")]
    buf = io.StringIO()
    con = Console(file=buf, width=80)
    for c in checks:
        con.print(view.check_line(c))
    text = buf.getvalue()
    assert "✓ 正常" in text and "✗ 失败" in text and "– 跳过" in text and "修复：" in text
    result = Result("verify", data={"summary": {"ok": 1, "failed": 1, "skipped": 1, "wall_s": 3.4},
                                    "target": {"python_version": "3.11.7", "torch": "2.13.0+cpu", "build": "CPU",
                                               "device": "cpu"}, "level": 1})
    import envcheck.render as render

    old = render.make_console
    render.make_console = lambda stderr=False, **kw: con
    try:
        buf.truncate(0)
        buf.seek(0)
        view.render_summary(result)
    finally:
        render.make_console = old
    summary = buf.getvalue()
    assert "1 项通过，1 项失败，1 项跳过，用时 3.40 秒（级别 1）" in summary and "验证失败（退出码 1）" in summary
    assert "目标：Python 3.11.7" in summary and _untranslated(text + summary) == []


@pytest.mark.e2e
def test_verify_real_cpu_torch_in_chinese_json_unchanged(torch_python):
    """The real CPU torch of the test venv (sys.executable): the frame in Chinese, --json identical."""
    zh = _envcheck("verify", "--python", torch_python, "--device", "cpu", "--level", "2", LANG="zh_CN.UTF-8",
                   COLUMNS="80")
    assert zh.returncode == 0, zh.stdout + zh.stderr
    assert "验证通过" in zh.stdout and "项通过" in zh.stdout and "✓ 正常 torch-import" in zh.stdout
    # the suite's own check messages, rendered on the host from the templates its end events carry
    for words in ("torch 2.13.0+cpu，CPU 构建；numpy", "三种加法结果一致", "自动求导", "指定了 --device cpu",
                  "未请求（加 --distributed 运行）", "与 float64 参考结果一致", "每个值都完好"):
        assert words in zh.stdout, words
    assert _untranslated(zh.stdout) == []
    runs = [json.loads(_envcheck("verify", "--python", torch_python, "--device", "cpu", "--level", "2", "--json",
                                 LANG=lang).stdout)
            for lang in ("zh_CN.UTF-8", "en_US.UTF-8")]
    for r in runs:  # what changes between any two runs: the time taken and the measured differences
        for c in r["data"]["checks"]:
            c.pop("duration_s")
            c["message"] = re.sub(r"max abs diff [0-9.e+-]+", "max abs diff N", c["message"])
        r["data"]["summary"].pop("wall_s", None)
        r["data"]["summary"].pop("duration_s", None)
        r["data"].pop("timings_s", None)
    assert runs[0] == runs[1]
    assert not CJK.search(json.dumps(runs[0], ensure_ascii=False))
    assert "torch 2.13.0+cpu, CPU build" in runs[0]["data"]["checks"][0]["message"]


def test_kernel_list_and_check_render_in_chinese(clean_env, tmp_path):
    """A kernelspec whose interpreter is gone (written here: synthetic, as a deleted env leaves one)."""
    kdir = tmp_path / "jupyter-data" / "kernels" / "old-env"
    kdir.mkdir(parents=True)
    (kdir / "kernel.json").write_text(json.dumps({"argv": [str(tmp_path / "gone" / "bin" / "python"), "-m",
                                                           "ipykernel_launcher", "-f", "{connection_file}"],
                                                  "display_name": "Python (old)", "language": "python"}))
    env = dict(clean_env, JUPYTER_PATH=None, LANG="zh_CN.UTF-8", ENVCHECK_LANG=None)
    listed = _cli(["kernel", "list"], env)
    assert listed.exit_code == 0, listed.output
    assert "解释器不存在" in listed.stdout and "搜索过的目录（排在前面的优先）" in listed.stdout
    checked = _cli(["kernel", "check"], env)
    assert checked.exit_code == 1
    assert "错误 stale-jupyter-kernel" in checked.stdout and "已经不存在了" in checked.stdout
    assert "envcheck kernel remove old-env" in checked.stdout and _untranslated(checked.stdout) == []
    as_json = [_cli(["kernel", "check", "--json"], dict(env, LANG=lang)).stdout for lang in ("zh_CN.UTF-8", "C")]
    assert as_json[0] == as_json[1] and "no longer exists" in as_json[0]


def test_quiet_verdict_in_chinese(clean_env, tmp_path, fake_bin, bare_python):
    from doctor_standins import fake_cuda_torch, hermetic_env, install_nvidia_smi, unset_all

    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site", "1.13.1+cu117", "11.7")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site), LANG="zh_CN.UTF-8"))
    out = _cli(["doctor", "--python", bare_python, "--quiet"], env)
    assert out.exit_code == 1 and out.stdout == "✗ 发现问题：gpu-arch-not-in-torch-build\n"


# --- verify: the suite's check messages are translated on the host, never in the target ------------

def _suite_module():
    import importlib.util

    from envcheck.inenv import script_path

    spec = importlib.util.spec_from_file_location("envcheck_verify_suite_i18n", script_path("verify_suite"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _suite_end_event(suite, fn, check_id="x"):
    """The end event the suite emits for one check run through its own run_check (no torch needed)."""
    import io
    import types

    out = io.StringIO()
    suite._events = out
    ctx = suite.Ctx(types.SimpleNamespace(timeout=30.0, device="cpu", require_cuda=False, level=1))
    suite.run_check(ctx, check_id, check_id, fn, {})
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return [e for e in lines if e["event"] == "end"][0], out.getvalue()


def test_suite_end_events_carry_templates_the_host_translates(zh):
    """The suite (stdlib only, English only) sends the English text plus {"id", "params"}; the host rebuilds a
    Msg from them: English in --json, the catalog's Chinese in the human line."""
    from envcheck.commands.verify import Listener, _Session

    suite = _suite_module()

    def failing(ctx):
        raise suite.Fail(suite.M("import torch failed: {error}", error="OSError: libcudart.so.12: cannot open"),
                         suite.M("reinstall torch in this environment: {fix}", fix=suite.install_fix("/e/bin/python")))

    def skipped(ctx):
        raise suite.Skip(suite.M("{name} is not installed", name="torchvision"))

    def passing(ctx):
        return suite.M("torch {version}, {build} build; numpy {numpy}", version="2.13.0+cpu", build="CPU",
                       numpy=suite.M("{version}, interop ok", version="2.4.6"))

    session = _Session(Listener())
    results = {}
    for check_id, fn in (("torch-import", failing), ("torchvision-import", skipped), ("tensor-creation", passing)):
        end, raw = _suite_end_event(suite, fn, check_id)
        assert not CJK.search(raw)  # the target interpreter never speaks Chinese
        session.running = (check_id, check_id, 0.0)
        session.on_line(raw.splitlines()[-1])
        results[check_id] = session.checks[check_id]
    failed = results["torch-import"]
    assert failed.message == "import torch failed: OSError: libcudart.so.12: cannot open"
    assert failed.fix == ("reinstall torch in this environment: run `envcheck install --python /e/bin/python` and "
                          "execute the command it prints")
    assert tr(failed.message) == "import torch 失败：OSError: libcudart.so.12: cannot open"
    assert tr(failed.fix) == "在这个环境里重新安装 torch：运行 `envcheck install --python /e/bin/python`，再执行它打印的命令"
    assert tr(results["torchvision-import"].message) == "没有安装 torchvision"
    assert tr(results["tensor-creation"].message) == "torch 2.13.0+cpu，CPU 构建；numpy 2.4.6，互操作正常"
    assert json.dumps(results["tensor-creation"].to_dict()["message"]) == '"torch 2.13.0+cpu, CPU build; numpy 2.4.6, interop ok"'


def test_suite_check_lines_render_in_chinese_at_80_columns(zh):
    import io

    from rich.console import Console

    from envcheck.commands.verify import Listener, _Session
    from envcheck.render import verify as view

    suite = _suite_module()
    end, raw = _suite_end_event(suite, lambda ctx: (_ for _ in ()).throw(
        suite.Skip(suite.M("CUDA is not available (see cuda-available)"))), "data-parallel")
    session = _Session(Listener())
    session.on_line(raw.splitlines()[-1])
    buf = io.StringIO()
    Console(file=buf, width=80).print(view.check_line(session.checks["data-parallel"]))
    assert buf.getvalue() == "  – 跳过 data-parallel            0.00 s CUDA 不可用（见 cuda-available）\n".replace(
        "0.00 s", f"{session.checks['data-parallel'].duration_s:.2f} s")


def test_a_template_that_does_not_reproduce_the_text_keeps_the_text(zh):
    """The English text is the contract: a record that does not rebuild it exactly (an older suite, a bug)
    is ignored, and the line stays English rather than saying something else."""
    from envcheck.i18n import from_template

    assert from_template("torchvision is not installed", {"id": "{name} is not installed",
                                                          "params": {"name": "torchvision"}}).msgid == "{name} is not installed"
    for record in ({"id": "{name} is not installed", "params": {"name": "torchaudio"}},
                   {"id": "{missing} is not installed", "params": {}}, {"params": {}}, "nonsense", None):
        kept = from_template("torchvision is not installed", record)
        assert kept == "torchvision is not installed" and not isinstance(kept, Msg)


def test_the_suite_has_no_translations_and_every_message_is_a_template():
    """Translations live in the catalog only; the suite marks its messages with M() (extracted like Msg)."""
    from envcheck.inenv import script_path

    source = Path(script_path("verify_suite")).read_text(encoding="utf-8")
    assert not CJK.search(source)
    ids, bad = extract_messages.scan_source(source, "verify_suite.py", extract_messages.SUITE_MARKERS)
    assert not bad and len(ids) > 150
    assert not re.search(r'raise (Skip|Fail)\("', source)  # a bare English literal would stay English in zh


def test_performance_lines_in_chinese(zh):
    from envcheck.perf import annotate_checks, render_performance
    from envcheck.results import CheckResult

    perf = {"devices": [{"device": "cpu", "gpu": None, "datasheet": None, "warnings": [], "figures": [
        {"metric": "cpu_matmul_fp32", "name": "CPU FP32 matmul", "measured": 11.47, "unit": "GFLOPS", "peak": None,
         "fraction": None, "status": "ok", "note": Msg("CPU: no datasheet peak is compared")},
        {"metric": "matmul_tf32", "name": "TF32 matmul", "measured": None, "unit": None, "peak": None,
         "fraction": None, "status": "skipped", "note": "no CUDA device: GPU matmuls not measured"}]}]}
    lines = [tr(line) for line in render_performance(perf)]
    assert lines == ["cpu 的性能：", "  CPU FP32 matmul 11.47 GFLOPS", "  TF32 matmul：跳过（没有 CUDA 设备：未测量 GPU 上的 matmul）"]
    low = {"devices": [{"device": "cuda:0", "gpu": "NVIDIA H100", "datasheet": {"row": "H100 SXM"}, "figures": [
        {"metric": "matmul_bf16", "name": "BF16 matmul", "measured": 400.0, "unit": "TFLOPS", "peak": 989.5,
         "fraction": 0.404, "status": "low", "note": None}], "warnings": ["BF16 matmul: slow"]}]}
    check = CheckResult("perf-matmul:0", "perf", "ok", 1.0, "measured on cuda:0: BF16 400.0 TFLOPS")
    annotated = annotate_checks([check], low)[0]
    assert annotated.message == ("cuda:0: BF16 matmul 400 TFLOPS = 40% of 989.5 LOW (H100 SXM datasheet). "
                                 "WARNING: BF16 matmul: slow")
    assert tr(annotated.message).startswith("cuda:0：BF16 matmul 400 TFLOPS = 989.5 的 40% 偏低（H100 SXM 规格表）。警告：")


def test_install_on_an_h100_for_python37_reads_in_chinese():
    """Python 3.7 on the H100 of tests/fixtures/h100-driver580 (its driver, CUDA and compute capability passed
    as flags): no CUDA build fits, and the note naming the newer releases is Chinese too."""
    flags = ["install", "--python", "3.7", "--os", "linux", "--arch", "x86_64", "--driver", "580.159.04",
             "--cuda", "13.0", "--gpu-cc", "9.0"]
    zh = _cli(flags, {"ENVCHECK_LANG": None, "LANG": "zh_CN.UTF-8"})
    assert zh.exit_code == 0, zh.output
    flat = re.sub(r"[│\s]+", "", zh.stdout)  # the panel wraps at 80 columns
    for words in ("能在驱动580.159.04（CUDA13.0）和GPUsm_90上运行：使用CPU构建",
                  "torch2.0.0及之后的版本有面向sm_90的cu118+构建，但需要Python>=3.8"):
        assert words in flat, words
    assert _untranslated(zh.stdout) == [] and "and later" not in zh.stdout


@pytest.mark.parametrize("extra", [["--cpu"], ["--driver", "470.57.02", "--gpu-cc", "8.6", "--explain"], [],
                                   ["--arch", "aarch64", "--driver", "580.65.06", "--gpu", "GH200", "--explain"],
                                   ["--gpu-arch", "gfx906", "--explain"]])
@pytest.mark.e2e  # the real program as a subprocess (its locale, its import-time help)
def test_install_json_is_identical_in_chinese_and_english(extra):
    """Every reason the resolver and the input detection write (rejections, notes, inputs' reasons) is
    English in --json whatever the language; [] detects this machine (no NVIDIA driver here)."""
    runs = [_envcheck("install", "--python", "3.11", *extra, "--json", LANG=lang)
            for lang in ("en_US.UTF-8", "zh_CN.UTF-8")]
    assert runs[0].returncode == runs[1].returncode == 0, runs[1].stderr
    assert runs[0].stdout == runs[1].stdout and not CJK.search(runs[1].stdout)
    zh = _envcheck("install", "--python", "3.11", *extra, LANG="zh_CN.UTF-8", COLUMNS="80")
    assert _untranslated(zh.stdout) == []


def test_aarch64_rocm_and_no_build_reasons_render_in_chinese():
    """The resolver's Linux aarch64 and ROCm reasons (and its exit-3 message and alternatives) are templates:
    Chinese on screen at 80 columns; their JSON is the English text (test_install_json_is_identical_...)."""
    env = {"ENVCHECK_LANG": None, "LANG": "zh_CN.UTF-8"}
    arm = _cli(["install", "--python", "3.12", "--arch", "aarch64", "--driver", "580.65.06", "--gpu", "GH200",
                "--explain"], env)
    assert arm.exit_code == 0, arm.output
    flat = re.sub(r"[│┃\s]+", "", arm.stdout)
    assert re.search(r"Linuxaarch64：使用torch[\d.]+面向aarch64（sbsa）的cu\d+构建，来自https://download\.pytorch\.org/"
                     r"whl/cu\d+，编译目标sm_80,sm_90.*，PTXcompute_\d+（configs/cuda_variants\.json\"aarch64\"）", flat), flat
    assert re.search(r"cu\d+：能运行，但在torch[\d.]+能运行的变体中cu\d+的CUDA最高", flat)
    assert _untranslated(arm.stdout) == [] and "(sbsa) on" not in arm.stdout
    amd = _cli(["install", "--python", "3.12", "--gpu-arch", "gfx906", "--explain"], env)
    assert amd.exit_code == 0, amd.output
    flat = re.sub(r"[│┃\s]+", "", amd.stdout)
    for pattern in (r"rocm[\d.]+：没有gfx906的核函数（torch[\d.]+的rocm[\d.]+wheel编译目标为gfx908",
                    r"ROCm核函数只能在完全相同的gfx目标上加载", r"rocm[\d.]+wheel自带ROCm[\d.]+的用户态库",
                    r"torch[\d.]+也支持Python3\.12，但它的ROCm构建没有一个支持gfx906"):
        assert re.search(pattern, flat), pattern
    assert _untranslated(amd.stdout) == [] and "no kernels for" not in amd.stdout
    none = _cli(["install", "--python", "3.15"], env)
    assert none.exit_code == 3
    assert "没有哪个兼容矩阵记录已核实的 torch 版本提供 Linux 上 Python 3.15 的 wheel" in none.output
    assert re.search(r"--allow-unverified 会选它；Python 3\.15：最新的 torch 是 [\d.]+", none.output), none.output


def test_install_run_question_in_chinese(tmp_path, zh):
    """`install --run`'s question before it changes anything: Chinese words, the commands as they are."""
    from test_install_execute import _env

    from envcheck.commands import install_execute
    from envcheck.errors import EnvcheckError

    i18n.set_lang("zh")  # importing the CLI chose this process's language again
    if not os.access("/usr/bin/python3.11", os.X_OK):
        pytest.skip("/usr/bin/python3.11 is not installed")
    env = {k: v for k, v in _env(tmp_path).items() if v is not None}
    asked = []
    request = install_execute.ExecuteRequest(python="3.11", cpu=True, torch="2.13.0", backend="venv", name="t",
                                             kernel="tk")
    with pytest.raises(EnvcheckError):
        install_execute.run(request, confirm=lambda q: asked.append(q) or False, environ=env)
    question = asked[0]
    assert question.startswith(f"要把 torch 2.13.0（cpu）安装到位于 {tmp_path / 'envs' / 't'} 的新 Python 3.11 环境里吗？")
    assert "  3. 注册 Jupyter 内核 tk\n" in question and question.endswith("继续吗？")
    assert "-m pip install torch==2.13.0 torchvision==0.28.0 --index-url" in question
    assert _untranslated(question) == [] and not (tmp_path / "envs").exists()


def test_a_running_checks_name_is_translated_for_the_spinner(zh):
    import io
    import types

    from envcheck.commands.verify import Listener, _Session

    suite = _suite_module()
    out = io.StringIO()
    suite._events = out
    ctx = suite.Ctx(types.SimpleNamespace(timeout=30.0, device="cpu", require_cuda=False, level=2))
    name = suite.M("{device}: {name}", device="cpu", name=suite.M("memory round trip"))
    suite.run_check(ctx, "memory-round-trip:cpu", name, lambda ctx: "done", {})
    session = _Session(Listener())
    session.on_line(out.getvalue().splitlines()[0])
    assert session.running[1] == "cpu: memory round trip" and tr(session.running[1]) == "cpu：内存往返拷贝"
    assert all(n == str(n) for _, n, _, _ in suite.STATIC)  # names in the plan and --json stay English


# --- install --execute, create, env remove: the workflow's messages (step titles, failures, undo) -----

INSTALLER_FIXTURES = sorted((REPO / "tests" / "fixtures" / "installer").glob("*.txt"))


@pytest.mark.parametrize("fixture", INSTALLER_FIXTURES, ids=lambda p: p.stem)
def test_installer_failure_fixes_render_in_chinese(zh, fixture):
    """The fix for each captured pip/uv failure (tests/fixtures/installer/, real outputs): English as a str
    (what JSON carries), Chinese through tr(), no sentence of the catalog left in English."""
    from envcheck.workflow.hints import diagnose_installer, suggest_fix

    text = fixture.read_text()
    tool = "uv" if fixture.name.startswith("uv-") else "pip"
    found = diagnose_installer(text, 12.5, tool)
    assert found is not None
    fix = suggest_fix(text.splitlines())
    for english in (found.said, found.fix, fix):
        assert not CJK.search(str(english)) and json.loads(json.dumps(english)) == str(english)
        assert _untranslated(tr(english)) == [], tr(english)
    # what envcheck says is Chinese; what the installer said (uv's "Because ...") is quoted as it was
    assert CJK.search(tr(found.fix)) and CJK.search(tr(fix)), tr(fix)


def test_step_titles_render_in_chinese_and_stay_english_in_the_plan(zh):
    from envcheck.plans.env import Backend, plan_conda_create, plan_env_remove, plan_ipykernel_install, \
        plan_pip_install, plan_uv_create, plan_venv_create

    steps = [plan_conda_create("conda", Backend.MAMBA, name="t", python="3.11"),
             plan_conda_create("conda", Backend.CONDA, prefix="/p/t", python="3.11"),
             plan_venv_create("/usr/bin/python3.11", "/p/t"), plan_uv_create("uv", "/usr/bin/python3.11", "/p/t"),
             plan_env_remove(Backend.CONDA, "conda", name="t"), plan_env_remove(Backend.VENV, None, prefix="/p/t"),
             plan_ipykernel_install("/p/t/bin/python", "t", "Python 3.11 (t)"),
             plan_pip_install("/p/t/bin/python", ["torch==2.13.0", "torchvision==0.28.0"])]
    assert [s.to_dict()["description"] for s in steps] == [
        "create mamba env named t with Python 3.11", "create conda env at /p/t with Python 3.11",
        "create venv at /p/t", "create uv venv at /p/t", "remove conda env t", "remove /p/t",
        "register Jupyter kernel t", "install torch==2.13.0 torchvision==0.28.0 with pip"]
    assert [tr(s.description) for s in steps] == [
        "创建名为 t 的 mamba 环境（Python 3.11）", "在 /p/t 创建 conda 环境（Python 3.11）", "在 /p/t 创建 venv",
        "在 /p/t 创建 uv venv", "删除 conda 环境 t", "删除 /p/t", "注册 Jupyter 内核 t",
        "用 pip 安装 torch==2.13.0 torchvision==0.28.0"]


def _normalized_envelope(stdout: str) -> dict:
    """The --json envelope without what differs between two runs (times, the log file's timestamped name)."""
    doc = json.loads(re.sub(r"install-tn-\d{8}-\d{6}-\d+(-\d+)?\.log", "LOG", stdout))
    data = doc["data"]
    data.pop("timing", None)
    for step in data.get("steps") or []:
        step["wall_s"] = step["tool_s"] = 0
    return doc


def test_install_execute_failure_in_chinese_json_unchanged(tmp_path, fake_bin):
    """The stand-in `conda` of test_install_execute.py (conda cannot be installed here) whose pip step fails
    like pip does (FAKE_CONDA_RUN_FAIL): --force replaced an env, so the undo puts it back. The human error,
    hint and step lines are Chinese; the --json envelope is the same in Chinese and English."""
    from test_install_execute import CONDA_ARGS, STANDIN_CONDA, _env

    write_exe(fake_bin, "conda", STANDIN_CONDA)
    env = {**_env(tmp_path, f"{fake_bin}:/usr/bin:/bin"), "FAKE_CONDA_LOG": str(tmp_path / "conda-argv.jsonl"),
           "FAKE_CONDA_ENVS": str(tmp_path / "conda-envs"), "FAKE_CONDA_RUN_FAIL": "1", "ENVCHECK_LANG": None,
           "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    old = tmp_path / "conda-envs" / "tn"
    (old / "conda-meta").mkdir(parents=True)
    args = ["install", *CONDA_ARGS, "--force", "--yes"]
    human = _cli(args, dict(env, LANG="zh_CN.UTF-8"))
    assert human.exit_code == 5, human.output
    text = "\n".join(ln for ln in human.output.splitlines() if not ln.lstrip().startswith("| "))  # the log's tail
    for words in ("错误：安装 torch, torchvision 失败", "提示：没有留下任何东西；已放回原来的 ", "修复：pip：没有匹配的发行包",
                  "完整日志：", "[1/4] 创建环境"):
        assert words in text, words
    assert _untranslated(text) == [], _untranslated(text)
    assert (old / "conda-meta").is_dir()
    envelopes = [_normalized_envelope(_cli(args + ["--json"], dict(env, LANG=lang)).stdout)
                 for lang in ("zh_CN.UTF-8", "C")]
    assert envelopes[0] == envelopes[1]
    error = envelopes[0]["errors"][0]
    assert error["message"].startswith("install torch, torchvision failed: ")
    assert error["hint"].startswith("nothing was left behind; put back the previous ") and not CJK.search(
        json.dumps(envelopes[0], ensure_ascii=False))


def test_create_and_env_remove_in_chinese_json_unchanged(clean_env, tmp_path, fake_bin):
    """create --dry-run: the same --json in both languages; env remove of an env envcheck recorded
    (written here: synthetic, a venv layout with envcheck's marker) shows its steps and result in Chinese."""
    from envcheck.plans.env import Backend
    from envcheck.registry import add_to_registry, write_marker

    env = dict(clean_env, ENVCHECK_ENVS_DIR=str(tmp_path / "envs"), ENVCHECK_LOG_DIR=str(tmp_path / "logs"),
               ENVCHECK_LANG=None, JUPYTER_PATH=None)
    dry = [_cli(["create", "--name", "t", "--python", "3.11", "--backend", "venv", "--dry-run", "--json"],
                dict(env, LANG=lang)) for lang in ("zh_CN.UTF-8", "C")]
    if dry[1].exit_code == 0:  # needs a Python 3.11 on this machine
        assert dry[0].stdout == dry[1].stdout and '"backend_why": "--backend venv"' in dry[0].stdout
    prefix = tmp_path / "envs" / "t"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    os.symlink(sys.executable, prefix / "bin" / "python")
    write_marker(str(prefix), name="t", backend=Backend.VENV, python="3.11")
    add_to_registry(str(prefix), "t", Backend.VENV, env)
    out = _cli(["env", "remove", "t", "--yes"], dict(env, LANG="zh_CN.UTF-8"))
    assert out.exit_code == 0, out.output
    assert "删除启动它的 Jupyter 内核" in out.output and "删除 venv 环境" in out.output
    assert _untranslated(out.output) == [] and not prefix.exists()

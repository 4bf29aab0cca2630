"""Property: no variant of a probe's argv gets past the grammar, for every probe in the catalogue.

Hypothesis starts from each probe's valid rendering and applies what getopt and friends would
accept as the same or a worse command: option abbreviations, ``=`` and glued forms, combined
short options, inserted options and positionals, and path tricks on path parameters. Only an
argv that is exactly some probe's rendering may be recognised.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from omv_copilot_agent import probes
from tests.integration.test_probes import sample_params

PROBES = sorted(probes.catalogue())
#: What the issue's attacker appended: options that write, change state or read secrets.
INSERTS = ["-t", "short", "-s", "on", "--set=standby,now", "-o", "APT::Get::Simulate=0", "--out", "-out=/tmp/f",
           "--vacuum-time=1s", "--vacuum-t=1s", "--cursor-file=/etc/passwd", "exec", "a", "d", "add", "/etc/shadow",
           "--", "-", "-af", "--volumes", "*:/", "NEWNAME", "--format={{(.Config)}}", "-X", "--rotate", "prune",
           "/proc/self/root/etc/shadow", "-u", "root", "-e", "-c", "id"]
PATH_TRICKS = ["/proc/self/root{v}", "/proc/1/root{v}", "/proc/thread-self/root{v}", "{v}/../../etc/shadow",
               "{v}/../../../etc/ssh/ssh_host_ed25519_key", "/proc/self/cwd/etc/shadow", "/proc/self/environ",
               "/etc/wireguard/wg0.conf", "/etc/netplan/01.yaml", "/etc/omv-copilot/config.yaml",
               "/etc/openmediavault/config.xml", "/var/lib/docker/containers/x/config.v2.json", "/root/.ssh/id_rsa",
               "/etc/ssl/private/nas.key", "{v}\x00", "{v} ", " {v}", "{v}\n", "/proc/net/../self/environ"]
PATH_TYPES = {"data_path", "meta_path", "system_file", "log_file", "cert"}


def rendered(name: str) -> list[str]:
    return probes.render(name, sample_params(probes.get(name)))


def accepted_only_as_a_rendering(argv: list[str]) -> None:
    call = probes.recognise(argv)
    assert call is None or probes.render(call.name, call.params) == argv, (argv, call)


def _options(argv: list[str]) -> list[int]:
    return [i for i, a in enumerate(argv) if i and a.startswith("-") and len(a) > 1]


@settings(max_examples=600, deadline=None)
@given(name=st.sampled_from(PROBES), data=st.data())
def test_abbreviations_eq_forms_and_combined_options_are_refused(name, data):
    argv = rendered(name)
    options = _options(argv)
    if not options:
        return
    i = data.draw(st.sampled_from(options))
    opt = argv[i]
    variants = []
    if opt.startswith("--") and len(opt) > 3:
        cut = data.draw(st.integers(min_value=3, max_value=len(opt) - 1))
        variants.append(argv[:i] + [opt[:cut]] + argv[i + 1:])  # --vacuum-t for --vacuum-time
    if i + 1 < len(argv):
        variants.append(argv[:i] + [f"{opt}={argv[i + 1]}"] + argv[i + 2:])  # --tail=50, -n=50
        variants.append(argv[:i] + [f"{opt}{argv[i + 1]}"] + argv[i + 2:])  # -n50
    if not opt.startswith("--"):
        others = [j for j in options if j != i and not argv[j].startswith("--")]
        if others:
            j = data.draw(st.sampled_from(others))
            merged = opt + argv[j][1:]
            variants.append([a for k, a in enumerate(argv) if k != j][:i] + [merged] + [a for k, a in enumerate(argv) if k != j][i + 1:])
        accepted_only_as_a_rendering(argv[:i] + [opt.swapcase()] + argv[i + 1:])  # -a/-A are different probes
    for variant in variants:
        if variant != argv:
            assert probes.recognise(variant) is None, (name, variant)


@settings(max_examples=600, deadline=None)
@given(name=st.sampled_from(PROBES), data=st.data())
def test_inserted_options_and_positionals_are_refused(name, data):
    argv = rendered(name)
    at = data.draw(st.integers(min_value=1, max_value=len(argv)))
    extra = data.draw(st.lists(st.sampled_from(INSERTS), min_size=1, max_size=2))
    variant = argv[:at] + extra + argv[at:]
    call = probes.recognise(variant)
    # Only another probe's exact shape may match (e.g. a literal that happens to be an insert); never a bigger command.
    assert call is None or (probes.render(call.name, call.params) == variant and call.name != name), (name, variant)
    assert probes.recognise(argv + ["--"] + extra) is None


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from([n for n in PROBES if set(probes.get(n).params.values()) & PATH_TYPES]), data=st.data())
def test_path_tricks_are_refused(name, data):
    probe = probes.get(name)
    param = data.draw(st.sampled_from([p for p, t in probe.params.items() if t in PATH_TYPES]))
    values = sample_params(probe)
    trick = data.draw(st.sampled_from(PATH_TRICKS)).format(v=values[param])
    values[param] = trick
    argv = list(probe.argv)
    for i, p, prefix in probe.slots():
        argv[i] = prefix + values[p]
    harmless = probes.TYPES[probe.params[param]].check(trick) is None and ".." not in trick and "/proc/" not in trick
    assert probes.recognise(argv) is None or harmless, (name, trick)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(PROBES), data=st.data())
def test_dropped_or_reordered_arguments_match_only_exact_shapes(name, data):
    argv = rendered(name)
    if len(argv) < 2:
        return
    i = data.draw(st.integers(min_value=1, max_value=len(argv) - 1))
    accepted_only_as_a_rendering(argv[:i] + argv[i + 1:])
    j = data.draw(st.integers(min_value=1, max_value=len(argv) - 1))
    swapped = list(argv)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    accepted_only_as_a_rendering(swapped)
    assert probes.recognise(["/usr/bin/" + argv[0], *argv[1:]]) is None  # a path instead of the tool's name
    assert probes.recognise([argv[0].upper(), *argv[1:]]) is None


@settings(max_examples=500, deadline=None)
@given(name=st.sampled_from([n for n in PROBES if probes.get(n).params]), data=st.data(),
       value=st.one_of(st.text(max_size=80), st.builds(lambda a, m, b: a + m + b,
                       st.sampled_from(["/dev/sda", "nas", "/srv/x", "10.0.0.1", "eth0", "smbd", "50", "", "-", "--"]),
                       st.sampled_from([";", "|", "&&", "`", "$(", "\n", " ", "/../", ">", "\x00", "'", "=", " -t "]),
                       st.sampled_from(["rm -rf /", "reboot", "etc/shadow", "-s on", "", "x"]))))
def test_a_placeholder_value_is_one_checked_argument_or_refused(name, data, value):
    """Whatever a user types for {param}: refused, or exactly one argument that is not an option."""
    from omv_copilot_agent.knowledge import diagnostics

    probe = probes.get(name)
    param = data.draw(st.sampled_from(sorted(probe.params)))
    values = {p: "{" + p + "}" for p in probe.params}
    diag = {"name": "fuzz", "probe": name, "params": values}
    given_params = dict(sample_params(probe), **{param: value})
    try:
        call = diagnostics.call(diag, given_params)
    except probes.ParamError:
        return
    argv = call.argv
    assert len(argv) == len(probe.argv) and probes.recognise(argv) is not None
    slot = next(i for i, p, _ in probe.slots() if p == param)
    assert argv[slot].endswith(value) and not value.startswith("-") and "\x00" not in value and "\n" not in value

"""A file OMV generates was changed outside an Apply: the next deploy of its module overwrites it."""

from omv_copilot_agent.alerts.rules import Condition, RuleContext

NAME = "config_hand_edit"
FINDINGS = ("omv-file-edited",)


def evaluate(ctx: RuleContext):
    if not ctx.source_ok("omv_files"):
        return None
    return [Condition(NAME, f.subject, "warning", f"{f.subject} was changed outside OMV", f.text,
                      {"file": f.evidence["file"], "module": f.evidence["module"], "durable_way": f.evidence["durable_way"]})
            for f in ctx.found(*FINDINGS)]

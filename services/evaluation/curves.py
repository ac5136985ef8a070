"""The PNG of ``ciclo compare``: cumulative replayed reward per policy (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

from services.evaluation.values import PolicyComparison


def plot_replay_curves(comparison: PolicyComparison, path: str | Path) -> Path:
    """Write a PNG of each policy's cumulative reward over its matched replay rows."""
    import matplotlib

    matplotlib.use("Agg")  # never open a window
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for replay in comparison.replays:
        steps = range(1, len(replay.cumulative_reward) + 1)
        label = f"{replay.policy} (mean {replay.mean_reward:.3f}, {replay.matched} rows)"
        axis.plot(list(steps), list(replay.cumulative_reward), label=label, linestyle="--" if replay.policy == "LOGGED" else "-")
    axis.set_xlabel("replayed decisions (rows where the policy chose the logged lever)")
    axis.set_ylabel("cumulative reward")
    axis.set_title(f"Replay on {comparison.decision_point}: {comparison.replay_rows} uniformly explored decisions")
    axis.legend()
    axis.grid(alpha=0.3)
    output = Path(path)
    figure.savefig(output, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return output

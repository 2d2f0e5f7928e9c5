"""Simulated annotators: real Label Studio users who take tasks from the real queue
(``/api/projects/{id}/next``) and submit over the API as the browser would, answering from the
item's gold label with a per-annotator error rate. Demo, tests and benchmarks use them.

On a preference pair they answer about what the task shows (Response 1 / Response 2, in the
task's order), as a person would (on a graded config, at a strength drawn evenly from 1..3); an
annotator with a ``first_shown_rate`` ignores the content and picks the first-shown response with
that probability (position bias)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django import db
from django.contrib.auth import get_user_model

from workbench.accounts.services import annotator_create, simulated_annotator_password
from workbench.errors import ValidationFailed
from workbench.labelstudio import connection
from workbench.projects import kinds, sides
from workbench.projects.models import Item, Project, ProjectMembership


@dataclass(frozen=True)
class SimulatedAnnotator:
    email: str
    error_rate: float
    # Preference only: pick Response 1 with this probability whatever it says (None: honest).
    first_shown_rate: float | None = None


@dataclass
class SimulationReport:
    submitted: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.submitted.values())


def simulated_annotators(
    count: int, error_rates: Sequence[float], first_shown_rates: Sequence[float] | None = None
) -> list[SimulatedAnnotator]:
    """``count`` annotators; error rates (and, for preference, first-shown rates: position
    bias) are given per annotator, or one for all."""
    rates = _per_annotator("error rate", count, error_rates)
    firsts: list[float | None] = [None] * count
    if first_shown_rates is not None:
        firsts = list(_per_annotator("first-shown rate", count, first_shown_rates))
    return [
        SimulatedAnnotator(f"sim-annotator-{i + 1}@workbench.local", rates[i], firsts[i])
        for i in range(count)
    ]


def _per_annotator(what: str, count: int, values: Sequence[float]) -> list[float]:
    if len(values) not in (1, count):
        raise ValidationFailed(f"Give one {what}, or {count}; got {len(values)}.")
    out = list(values) * count if len(values) == 1 else list(values)
    if any(not 0 <= r <= 1 for r in out):
        raise ValidationFailed(f"{what.capitalize()}s must lie in [0, 1]; got {out}.")
    return out


def ensure_simulated_accounts(project: Project, annotators: Sequence[SimulatedAnnotator]) -> None:
    """Create the annotators' workbench and Label Studio accounts unless they exist already."""
    users = get_user_model().objects
    for annotator in annotators:
        user = users.filter(username=annotator.email).first()
        if user is None:
            annotator_create(
                email=annotator.email,
                first_name="Simulated",
                last_name=annotator.email.split("@")[0],
                projects=[project],
                password=simulated_annotator_password(annotator.email),
            )
        else:
            ProjectMembership.objects.get_or_create(project=project, user=user)


def simulate(
    *,
    project: Project,
    annotators: Sequence[SimulatedAnnotator],
    max_tasks_per_annotator: int | None = None,
    seed: int = 0,
) -> SimulationReport:
    """Let every annotator label until the queue has nothing left for anyone (or each one's
    task budget is spent).

    Annotators work side by side, one thread each, as people would; Label Studio's queue
    decides who gets what. With several annotators per item, ``/next`` can answer "no more
    tasks" while another annotator still holds the lock on the last one, so they come back for
    another pass until a whole pass finds nothing. Each answer is seeded by
    (seed, annotator, item), so the labels do not depend on how the threads interleave.
    """
    ensure_simulated_accounts(project, annotators)
    gateway = connection.get_gateway()
    tokens = {
        a.email: gateway.user_token(email=a.email, password=simulated_annotator_password(a.email))
        for a in annotators
    }
    report = SimulationReport()
    while True:
        budgets = {
            a.email: None
            if max_tasks_per_annotator is None
            else max_tasks_per_annotator - report.submitted[a.email]
            for a in annotators
        }
        working = [a for a in annotators if budgets[a.email] != 0]
        if not working:
            return report
        with ThreadPoolExecutor(max_workers=len(working)) as pool:
            runs = [pool.submit(_work, project, a, tokens[a.email], budgets[a.email], seed) for a in working]
            results = [run.result() for run in runs]
        for annotator, (submitted, wrong) in zip(working, results, strict=True):
            report.submitted[annotator.email] += submitted
            report.wrong[annotator.email] += wrong
        if not any(submitted for submitted, _ in results):
            return report


def _work(
    project: Project, annotator: SimulatedAnnotator, token: str, budget: int | None, seed: int
) -> tuple[int, int]:
    """One annotator's pass through the queue: (tasks submitted, answers deliberately wrong)."""
    gateway = connection.get_gateway()
    interface = kinds.interface_of(project)
    if project.ls_project_id is None:
        raise ValidationFailed(f"Project {project.id} is not in Label Studio; nothing to label.")
    submitted = wrong = 0
    try:
        while budget is None or submitted < budget:
            task = gateway.next_task(project_id=project.ls_id(), user_token=token)
            if task is None:
                break
            item = Item.objects.get(project=project, id=task.data["item_id"])
            # Keyed by content, not the database id: a rerun on a new database answers alike.
            rng = random.Random(f"{seed}:{annotator.email}:{item.content_hash}")
            if interface.spec.sided:
                choice, erred = shown_answer(annotator, item.gold, task.data.get("sides"), rng)
                if interface.graded:  # how much better: a strength drawn evenly from the scale
                    choice = sides.graded_choice(choice, rng.randint(1, sides.MAX_STRENGTH))
                result = interface.result_for_choice(choice)
            else:
                label, erred = answer(interface.spec, item.gold, annotator.error_rate, rng)
                result = interface.result_for(label)
            gateway.submit_annotation(
                task_id=task.id,
                result=result,
                lead_time=round(rng.lognormvariate(2.0, 0.5), 2),
                user_token=token,
            )
            submitted, wrong = submitted + 1, wrong + erred
    finally:
        db.connections.close_all()  # this thread's own database connection
    return submitted, wrong


def answer(
    spec: kinds.KindSpec, gold: object, error_rate: float, rng: random.Random
) -> tuple[kinds.Label, bool]:
    """The gold label, or with probability ``error_rate`` a wrong one: another choice for
    single-choice kinds, one category toggled for multi-label."""
    if gold is None:
        raise ValidationFailed("Simulated annotators need items with a gold label.")
    wrong = rng.random() < error_rate
    if spec.multiple:
        ticked = set(gold)  # type: ignore[call-overload]
        if wrong:
            ticked ^= {rng.choice(spec.labels)}
        return tuple(label for label in spec.labels if label in ticked), wrong
    if not wrong:
        return str(gold), False
    return rng.choice([label for label in spec.labels if label != gold]), True


def shown_answer(
    annotator: SimulatedAnnotator, gold: object, shown: object, rng: random.Random
) -> tuple[str, bool]:
    """A preference answer on the shown sides (``1`` / ``2`` / ``tie``) and whether it is wrong
    about the item's gold label. ``shown`` is the task's order as Label Studio shows it."""
    if not isinstance(shown, str) or shown not in sides.SIDES:
        raise ValidationFailed(f"A preference task must say the order it shows (sides), got {shown!r}.")
    if annotator.first_shown_rate is not None:
        if gold is None:
            raise ValidationFailed("Simulated annotators need items with a gold label.")
        choice = sides.FIRST if rng.random() < annotator.first_shown_rate else sides.SECOND
        return choice, sides.stored_label(choice, shown) != gold
    label, erred = answer(kinds.spec_of(kinds.Kind.PREFERENCE), gold, annotator.error_rate, rng)
    return sides.shown_choice(str(label), shown), erred

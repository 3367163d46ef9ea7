"""``grader competition``: the actions a TA runs, one per sub-command.

    grader competition teams DIR                      check the teams file
    grader competition import DIR LEADERBOARD.csv [-o points.csv]
                                                      external: a Kaggle leaderboard → points
    grader competition submit DIR TEAM FILE [--at TIME]
                                                      in-class: score and store a prediction file
    grader competition submissions DIR TEAM           a team's submissions (ids, times, scores)
    grader competition choose DIR TEAM ID...          the submissions that decide TEAM's final score
    grader competition score DIR                      score every stored submission again
    grader competition leaderboard DIR [-o HTML]      the public page (the final one after the deadline)
    grader competition points DIR [-o points.csv]     in-class, after the deadline: ranks → points

``DIR`` holds ``competition.toml`` (:mod:`grader.competition.config`).
``--at`` (``2025-06-20 21:30``, in the competition's time zone unless it
says otherwise) records a file at the time it was handed in; never a time
to come, which would show a private score before the deadline.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from grader.files import atomic_write


def add_arguments(parser) -> None:
    """The sub-commands of ``grader competition`` on ``parser``."""
    sub = parser.add_subparsers(dest="action", required=True)
    s = sub.add_parser("teams", help="check the teams file against the roster and the team size")
    s.add_argument("folder", metavar="DIR")
    s = sub.add_parser("import", help="external competition: a Kaggle leaderboard CSV → points.csv")
    s.add_argument("folder", metavar="DIR")
    s.add_argument("leaderboard", metavar="CSV")
    s.add_argument("-o", "--output", default=None, help="where to write points.csv (default DIR/points.csv)")
    s = sub.add_parser("submit", help="score and store a team's prediction file")
    s.add_argument("folder", metavar="DIR")
    s.add_argument("team")
    s.add_argument("file")
    s.add_argument("--at", default=None, metavar="TIME", help="when it was handed in (default: now)")
    s = sub.add_parser("submissions", help="a team's submissions: ids, times, scores")
    s.add_argument("folder", metavar="DIR")
    s.add_argument("team")
    s = sub.add_parser("choose", help="the submissions that decide a team's final score (none: its best public)")
    s.add_argument("folder", metavar="DIR")
    s.add_argument("team")
    s.add_argument("ids", nargs="*", type=int, metavar="ID")
    s = sub.add_parser("score", help="score every stored submission again (after correcting the labels)")
    s.add_argument("folder", metavar="DIR")
    s = sub.add_parser("leaderboard", help="the leaderboard page: public before the deadline, final after")
    s.add_argument("folder", metavar="DIR")
    s.add_argument("-o", "--output", default=None, help="where to write the page (default DIR/leaderboard.html)")
    s = sub.add_parser("points", help="in-class competition, after the deadline: points.csv")
    s.add_argument("folder", metavar="DIR")
    s.add_argument("-o", "--output", default=None, help="where to write points.csv (default DIR/points.csv)")


def _time(text: str | None, comp) -> datetime.datetime | None:
    if text is None:
        return None
    from grader.competition.hosted import SubmissionRefused

    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise SubmissionRefused(f"--at {text!r}: write a time like \"2025-06-20 21:30\"") from None
    value = value.replace(tzinfo=comp.timezone) if value.tzinfo is None else value
    # A time to come would score a file as if the deadline had passed, private part included.
    if value > datetime.datetime.now(datetime.timezone.utc):
        raise SubmissionRefused(f"--at {text}: a time to come; --at is when a file was handed in")
    return value


def run(args, console, err) -> int:
    """Carry out ``args.action``; the exit status."""
    from grader.competition import config, hosted
    from grader.competition.leaderboard import LeaderboardError
    from grader.competition.teams import TeamsError

    try:
        comp = config.load(args.folder)
        return _ACTIONS[args.action](comp, args, console, err)
    except TeamsError as exc:
        err.print(f"the teams file cannot be used: {len(exc.problems)} problem(s)", markup=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        return 1
    except (config.CompetitionConfigError, LeaderboardError, hosted.SubmissionRefused) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 2


def _teams(comp, args, console, err) -> int:
    teams = comp.load_teams()
    console.print(f"{len(teams)} teams, {sum(len(t.members) for t in teams)} students: the teams file is valid",
                  markup=False)
    if comp.roster_file:
        from grader.roster import load_roster

        placed = {m for t in teams for m in t.members}
        alone = [sid for sid in load_roster(comp.roster_file).names if sid not in placed]
        if alone:
            console.print(f"on the roster but in no team ({len(alone)}): {', '.join(alone)}", markup=False,
                          highlight=False)
    return 0


def _import(comp, args, console, err) -> int:
    from grader.competition.leaderboard import import_leaderboard, write_points_csv

    done = import_leaderboard(args.leaderboard, comp.load_teams(), comp.points,
                              higher_is_better=comp.metric.higher_is_better, aliases=comp.aliases)
    out = Path(args.output) if args.output else comp.folder / "points.csv"
    write_points_csv(done.results, out)
    ranked = [r for r in done.results if r.rank is not None]
    console.print(f"{len(ranked)} of {len(done.results)} course teams found among the leaderboard's {done.size} "
                  f"teams; points for every member in {out}", markup=False, highlight=False)
    if done.unmatched_teams:
        console.print(f"course teams not on the leaderboard (they get {comp.points.floor:g} points): "
                      f"{', '.join(done.unmatched_teams)}", markup=False, highlight=False)
    if done.unmatched_leaderboard:
        shown = done.unmatched_leaderboard[:20]
        more = f" … and {len(done.unmatched_leaderboard) - 20} more" if len(done.unmatched_leaderboard) > 20 else ""
        console.print(f"leaderboard names matching no course team ({len(done.unmatched_leaderboard)}; a misspelt "
                      f"course team goes in [aliases]): {', '.join(shown)}{more}", markup=False, highlight=False)
    for note in done.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    return 0


def _submit(comp, args, console, err) -> int:
    from grader.competition import hosted

    path = Path(args.file)
    outcome = hosted.submit(comp, args.team, path.read_bytes(), path.name, now=_time(args.at, comp))
    (console if outcome.accepted else err).print(outcome.message, markup=False, highlight=False)
    return 0 if outcome.accepted else 1


def _submissions(comp, args, console, err) -> int:
    from grader.competition import hosted
    from grader.competition.store import Store

    team = hosted._team(comp, args.team)
    over = hosted.is_over(comp)
    with Store(comp.database) as store:
        subs, rejected = store.submissions(team.name), store.rejections(team.name)
    for s in subs:
        when = s.submitted_at.astimezone(comp.timezone)
        private = f" private {s.private_score:.5g}" if over else ""
        flags = " late" * s.late + " chosen" * s.chosen
        console.print(f"{s.id:>5}  {when:%Y-%m-%d %H:%M}  {s.filename}  public {s.public_score:.5g}{private}{flags}",
                      markup=False, highlight=False)
    console.print(f"{len(subs)} scored, {len(rejected)} not scored", markup=False)
    return 0


def _choose(comp, args, console, err) -> int:
    from grader.competition import hosted

    chosen = hosted.choose(comp, args.team, args.ids)
    console.print(f"team {args.team}: final score from submission(s) {', '.join(map(str, chosen))}" if chosen
                  else f"team {args.team}: no choice; the submission with its best public score counts",
                  markup=False, highlight=False)
    return 0


def _score(comp, args, console, err) -> int:
    from grader.competition import hosted

    console.print(f"{hosted.rescore(comp)} submission(s) scored differently now", markup=False)
    return 0


def _leaderboard(comp, args, console, err) -> int:
    from grader.competition.pages import leaderboard_page

    html, final = leaderboard_page(comp)
    out = Path(args.output) if args.output else comp.folder / "leaderboard.html"
    atomic_write(out, html)
    console.print(f"{'final' if final else 'public'} leaderboard written to {out}", markup=False, highlight=False)
    return 0


def _points(comp, args, console, err) -> int:
    from grader.competition import hosted
    from grader.competition.leaderboard import write_points_csv

    results, _ = hosted.final_results(comp)
    out = Path(args.output) if args.output else comp.folder / "points.csv"
    write_points_csv(results, out)
    console.print(f"points of {sum(len(r.team.members) for r in results)} students in {out}", markup=False,
                  highlight=False)
    return 0


_ACTIONS = {"teams": _teams, "import": _import, "submit": _submit, "submissions": _submissions, "choose": _choose,
            "score": _score, "leaderboard": _leaderboard, "points": _points}

"""Entry points for other graders: Gradescope's ``run_autograder`` and otter."""

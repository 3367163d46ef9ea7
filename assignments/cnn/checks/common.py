"""Helpers the CNN lab's checks share (public and hidden). None yet: every
check is self-contained. Whatever ``observe`` needs of the lab's settings
arrives in its inputs."""

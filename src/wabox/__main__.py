"""``python -m wabox``: the same as the ``wabox`` command."""

from wabox.launcher import main

main()

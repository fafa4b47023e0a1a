import sys

from temporalkit.cli import main

sys.exit(main())

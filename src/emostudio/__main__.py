import sys

from emostudio.cli import main

sys.exit(main())

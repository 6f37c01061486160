import sys

from heliograph.cli.main import main

sys.exit(main())

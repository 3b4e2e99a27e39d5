import sys

from jupyter_aml.agent.main import main

sys.exit(main())

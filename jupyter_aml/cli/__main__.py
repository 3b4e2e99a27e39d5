from jupyter_aml.cli import main

main()

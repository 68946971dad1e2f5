from vidugate.cli.main import main

main()

from propgroup.cli import main

main()

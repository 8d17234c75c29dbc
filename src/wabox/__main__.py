from wabox.cli import main

main()

"""Research profiles: the YAML files and the topics chats and admins add at run time."""

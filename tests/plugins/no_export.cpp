// A shared object that is not a Switchboard plugin: it exports no switchboard_plugin.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() { return 42; }

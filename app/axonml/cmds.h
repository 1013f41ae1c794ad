/* Subcommands of the axonml CLI; each lives in its own cmd_<name>.c and returns the exit status
 * (0 ok, 1 run-time failure, 2 bad input). argv[0] is the subcommand name. */
#ifndef AXM_CMDS_H
#define AXM_CMDS_H

int cmd_info(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_threshold(int argc, char **argv);
int cmd_cv(int argc, char **argv);
int cmd_gendata(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

#endif

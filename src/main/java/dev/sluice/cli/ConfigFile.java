package dev.sluice.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.PropertiesDefaultProvider;

/**
 * The settings file of {@code sluice serve --config FILE} (or {@code SLUICE_CONFIG}): Java
 * properties named as the options without their dashes ({@code port=8080},
 * {@code export-workers=4}). Picocli asks it for every option the command line leaves out; an
 * environment variable set for the option wins over the file, so the order is flags,
 * environment, file, defaults. A name that is no option is refused, so a typo does not pass
 * unnoticed.
 */
final class ConfigFile implements IDefaultValueProvider {
  private static final String OPTION = "--config";
  /** Options that are no settings. */
  private static final Set<String> NOT_SETTINGS = Set.of("config", "help", "version");

  private final PropertiesDefaultProvider file;
  private final Map<String, String> environment;

  private ConfigFile(Properties properties, Map<String, String> environment) {
    this.file = new PropertiesDefaultProvider(properties);
    this.environment = environment;
  }

  /** The file named by {@code --config FILE} or {@code --config=FILE} in the arguments, else by SLUICE_CONFIG. */
  static Optional<Path> named(String[] args, Map<String, String> environment) {
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals(OPTION) && i + 1 < args.length) {
        return Optional.of(Path.of(args[i + 1]));
      }
      if (args[i].startsWith(OPTION + "=")) {
        return Optional.of(Path.of(args[i].substring(OPTION.length() + 1)));
      }
    }
    String fromEnvironment = environment.get("SLUICE_CONFIG");
    return fromEnvironment == null || fromEnvironment.isBlank() ? Optional.empty() : Optional.of(Path.of(fromEnvironment));
  }

  /** @throws IllegalArgumentException when the file cannot be read or names a setting the command lacks */
  static ConfigFile read(Path path, CommandSpec command, Map<String, String> environment) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot read the configuration file " + path + ": " + e.getMessage(), e);
    }
    Set<String> names = new TreeSet<>();
    for (OptionSpec option : command.options()) {
      names.add(name(option));
    }
    names.removeAll(NOT_SETTINGS);
    List<String> unknown = properties.stringPropertyNames().stream().filter(k -> !names.contains(k)).sorted().toList();
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("the configuration file " + path + " names unknown settings " + unknown
          + "; the settings are " + names);
    }
    return new ConfigFile(properties, environment);
  }

  /** The environment variable of an option: {@code --export-workers} is SLUICE_EXPORT_WORKERS. */
  static String environmentName(String optionName) {
    return "SLUICE_" + optionName.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  private static String name(OptionSpec option) {
    return option.longestName().replaceFirst("^-+", "");
  }

  @Override
  public String defaultValue(ArgSpec arg) throws Exception {
    if (!(arg instanceof OptionSpec option) || NOT_SETTINGS.contains(name(option))) {
      return null;
    }
    String fromEnvironment = environment.get(environmentName(name(option)));
    return fromEnvironment != null ? fromEnvironment : file.defaultValue(arg);
  }
}

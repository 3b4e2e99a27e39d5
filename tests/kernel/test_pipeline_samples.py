"""The code cells of Azure ML v1's intro-to-pipelines samples (aml-pipelines-getting-started and
aml-pipelines-with-data-dependency-steps), cell by cell in a real kernel against a live service: data uploaded to
the default blob store and referenced with DataReference, PipelineData between steps on a compute cluster, one
source_directory per step, validate(), submit, wait_for_completion, get_steps / find_step_run, publish_pipeline,
then a second submit that reuses every step. Only the workspace connection (config.json) and the data (a small
local 20news.pkl, which the sample uploads itself) are set here."""

from __future__ import annotations

from pathlib import Path

from azureml.core import Experiment
from azureml.pipeline.core import PipelineRun

from tests.kernel.test_azure_sample_flows import _notebook
from tests.kernel.test_examples import execute, outputs_of

# The sample's step scripts, each in its own folder as the sample ships them.
SCRIPTS = {
    "data_dependency_run_train/train.py": '''
import argparse
import os

print("In train.py")
print("As a data scientist, this is where I use my training code.")

parser = argparse.ArgumentParser("train")

parser.add_argument("--input_data", type=str, help="input data")
parser.add_argument("--output_train", type=str, help="output_train directory")

args = parser.parse_args()

print("Argument 1: %s" % args.input_data)
print("Argument 2: %s" % args.output_train)

if not (args.output_train is None):
    os.makedirs(args.output_train, exist_ok=True)
    print("%s created" % args.output_train)
    # not in the sample: proof that the referenced blob was readable, for the next step (here the reference's
    # path is the folder its files were copied into)
    found = [os.path.relpath(os.path.join(d, f), args.input_data) for d, _, fs in os.walk(args.input_data) for f in fs]
    print("input files:", found)
    with open(os.path.join(args.input_data, found[0]), "rb") as src:
        size = len(src.read())
    with open(os.path.join(args.output_train, "size.txt"), "w") as out:
        out.write(str(size))
''',
    "data_dependency_run_extract/extract.py": '''
import argparse
import os

print("In extract.py")
print("As a data scientist, this is where I use my extract code.")

parser = argparse.ArgumentParser("extract")
parser.add_argument("--input_extract", type=str, help="input_extract data")
parser.add_argument("--output_extract", type=str, help="output_extract directory")

args = parser.parse_args()

print("Argument 1: %s" % args.input_extract)
print("Argument 2: %s" % args.output_extract)

if not (args.output_extract is None):
    os.makedirs(args.output_extract, exist_ok=True)
    print("%s created" % args.output_extract)
    print("train wrote size", open(os.path.join(args.input_extract, "size.txt")).read())
    # as in the sample, processed_data2 is left empty: the compare step gets an empty folder
''',
    "data_dependency_run_compare/compare.py": '''
import argparse
import os

print("In compare.py")
print("As a data scientist, this is where I use my compare code.")

parser = argparse.ArgumentParser("compare")
parser.add_argument("--compare_data1", type=str, help="compare_data1 data")
parser.add_argument("--compare_data2", type=str, help="compare_data2 data")
parser.add_argument("--output_compare", type=str, help="output_compare directory")

args = parser.parse_args()

print("Argument 1: %s" % args.compare_data1)
print("Argument 2: %s" % args.compare_data2)
print("Argument 3: %s" % args.output_compare)

if not (args.output_compare is None):
    os.makedirs(args.output_compare, exist_ok=True)
    print("%s created" % args.output_compare)
''',
}

CELLS = [
    """
import os
import azureml.core
from azureml.core import Workspace, Experiment, Datastore
from azureml.core.compute import AmlCompute
from azureml.core.compute import ComputeTarget
from azureml.widgets import RunDetails

# Check core SDK version number
print("SDK version:", azureml.core.VERSION)
""",
    """
from azureml.data.data_reference import DataReference
from azureml.pipeline.core import Pipeline, PipelineData
from azureml.pipeline.steps import PythonScriptStep
print("Pipeline SDK-specific imports completed")
""",
    """
ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep = '\\n')

# Default datastore (Azure blob storage)
# def_blob_store = ws.get_default_datastore()
def_blob_store = Datastore(ws, "workspaceblobstore")
print("Blobstore's name: {}".format(def_blob_store.name))
""",
    """
def_blob_store.upload_files(["./20news.pkl"], target_path="20newsgroups", overwrite=True)
print("Upload call completed")
""",
    """
from azureml.core.compute_target import ComputeTargetException

aml_compute_target = "cpu-cluster"
try:
    aml_compute = AmlCompute(ws, aml_compute_target)
    print("found existing compute target.")
except ComputeTargetException:
    print("creating new compute target")

    provisioning_config = AmlCompute.provisioning_configuration(vm_size = "STANDARD_D2_V2",
                                                                min_nodes = 1,
                                                                max_nodes = 4)
    aml_compute = ComputeTarget.create(ws, aml_compute_target, provisioning_config)
    aml_compute.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)

print("Aml Compute attached")
""",
    """
# Reference the data uploaded to blob storage using DataReference
# Assign the datasource to blob_input_data variable
blob_input_data = DataReference(
    datastore=def_blob_store,
    data_reference_name="test_data",
    path_on_datastore="20newsgroups/20news.pkl")
print("DataReference object created")
""",
    """
# Define intermediate data using PipelineData
processed_data1 = PipelineData("processed_data1",datastore=def_blob_store)
print("PipelineData object created")
""",
    """
source_directory = 'data_dependency_run_train'
# trainStep consumes the datasource (Datareference) in the previous step
# and produces processed_data1
trainStep = PythonScriptStep(
    name="train_step",
    script_name="train.py",
    arguments=["--input_data", blob_input_data, "--output_train", processed_data1],
    inputs=[blob_input_data],
    outputs=[processed_data1],
    compute_target=aml_compute,
    source_directory=source_directory,
    allow_reuse=True
)
print("trainStep created")
""",
    """
# extractStep to use the intermediate data produced by trainStep
# This step also produces an output processed_data2
processed_data2 = PipelineData("processed_data2", datastore=def_blob_store)
source_directory = "data_dependency_run_extract"

extractStep = PythonScriptStep(
    name="extract_step",
    script_name="extract.py",
    arguments=["--input_extract", processed_data1, "--output_extract", processed_data2],
    inputs=[processed_data1],
    outputs=[processed_data2],
    compute_target=aml_compute,
    source_directory=source_directory)
print("extractStep created")
""",
    """
# Now define compareStep that takes two inputs (both intermediate data), and produce an output
processed_data3 = PipelineData("processed_data3", datastore=def_blob_store)
source_directory = "data_dependency_run_compare"

compareStep = PythonScriptStep(
    name="compare_step",
    script_name="compare.py",
    arguments=["--compare_data1", processed_data1, "--compare_data2", processed_data2,
               "--output_compare", processed_data3],
    inputs=[processed_data1, processed_data2],
    outputs=[processed_data3],
    compute_target=aml_compute,
    source_directory=source_directory)
print("compareStep created")
""",
    """
pipeline1 = Pipeline(workspace=ws, steps=[compareStep])
print ("Pipeline is built")

pipeline1.validate()
print("Pipeline validation complete")
""",
    """
pipeline_run1 = Experiment(ws, 'Data_dependency').submit(pipeline1)
print("Pipeline is submitted for execution")
""",
    """
RunDetails(pipeline_run1).show()
""",
    """
pipeline_run1.wait_for_completion(show_output=True)
""",
    """
step_runs = pipeline_run1.get_steps()
for step_run in step_runs:
    status = step_run.get_status()
    print('Script:', step_run.name, 'status:', status)

    # Change this if you want to see details even if the Step has succeeded.
    if status == "Failed":
        joblog = step_run.get_job_log()
        print('job log:', joblog)
""",
    """
train_run = pipeline_run1.find_step_run("train_step")[0]
print("train_step output:", train_run.get_output_data("processed_data1").path_on_datastore)
""",
    """
published_pipeline1 = pipeline_run1.publish_pipeline(
     name="Published_Data_Dependency_Pipeline",
     description="Notebook Published Pipeline",
     version="1.0")
published_pipeline1
""",
    """
print("published id", published_pipeline1.id)
print("endpoint", published_pipeline1.endpoint)
""",
    """
pipeline_run2 = Experiment(ws, 'Data_dependency').submit(pipeline1, regenerate_outputs=False)
print("Pipeline is submitted for execution")
pipeline_run2.wait_for_completion(show_output=True)
for step_run in pipeline_run2.get_steps():
    print('Reused:', step_run.name, step_run.get_properties().get('azureml.isreused'))
""",
]


def test_the_intro_to_pipelines_samples(kernel_env, service, tmp_path: Path) -> None:
    ws = service.workspace("samples-pipelines")
    folder = tmp_path / "intro-to-pipelines"
    for name, text in SCRIPTS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text.lstrip())
    (folder / "20news.pkl").write_bytes(b"\x80\x04" + b"x" * 998)  # the data location: a local 1000-byte file
    (folder / "config.json").write_text(
        '{"subscription_id": "00000000-1111-2222-3333-444444444444", "resource_group": "aml-samples", '
        '"workspace_name": "samples-pipelines"}')
    nb = execute(_notebook(folder, CELLS))  # raises CellExecutionError on any cell error
    text = outputs_of(nb)
    assert "Pipeline validation complete" in text
    for name in ("train_step", "extract_step", "compare_step"):
        assert f"Script: {name} status: Completed" in text
        assert f"Reused: {name} true" in text  # the second submit ran nothing
    first = text.split("PipelineRun ")[1].split()[0]  # wait_for_completion's last line names the run
    steps = PipelineRun(Experiment(ws, "Data_dependency"), first).find_step_run
    train_log = "\n".join(line["text"] for line in steps("train_step")[0].get_logs())
    extract_log = "\n".join(line["text"] for line in steps("extract_step")[0].get_logs())
    assert "input files: ['20news.pkl']" in train_log or "input files: ['20newsgroups/20news.pkl']" in train_log
    assert "train wrote size 1000" in extract_log  # the DataReference'd blob reached train, its output extract
    assert "In train.py" in steps("train_step")[0].get_job_log()  # what the sample prints for a failed step
    assert "train_step output: " in text and "published id " in text
    assert "/PipelineRuns/PipelineSubmit/" in text
